"""``ganglion convert IN.pth OUT.safetensors``: a PyTorch weight file to safetensors (``ganglion.vision.convert``;
needs PyTorch for that step only)."""

from .common import command_parser
from .errors import CommandError


def add_parser(commands):
    parser = command_parser(commands, "convert", "convert a PyTorch .pth/.pt state_dict to .safetensors")
    parser.add_argument("src", metavar="IN.pth", help="file written by torch.save (a state_dict or a checkpoint)")
    parser.add_argument("dst", metavar="OUT.safetensors", help="where to write the safetensors file (atomically)")
    parser.add_argument("--key", default=None, help="the checkpoint entry holding the state_dict (default: the "
                        "file itself, else 'state_dict' or 'model')")
    parser.set_defaults(run=run)
    return parser


def run(args):
    from ..vision.convert import convert

    try:
        names = convert(args.src, args.dst, key=args.key)
    except (ImportError, OSError, ValueError) as error:
        raise CommandError(str(error)) from None
    print(f"converted {len(names)} tensors from {args.src} to {args.dst}")
    return 0
