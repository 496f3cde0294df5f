"""``ganglion summary MODEL``: what a saved model takes and gives, and per layer its output shape, parameters and
FLOPs (``ganglion.insight.model_summary``)."""

from .common import command_parser, positive_int


def add_parser(commands):
    parser = command_parser(
        commands, "summary", "layers, output shapes, parameters and FLOPs of a saved model",
        "Describe a model file written by `ganglion train`: its input, classes and training, and per layer the output "
        "shape, parameters and FLOPs (from one forward pass on zeros).", model_file=True)
    parser.add_argument("--batch-size", type=positive_int, default=1, help="batch size of the input the FLOPs and "
                        "activation memory are counted for")
    parser.set_defaults(run=run)
    return parser


def describe_input(spec, n_features):
    if spec["kind"] == "standardize":
        return f"{n_features} columns, standardized with the training rows' mean and scale"
    return (f"{spec['height']}x{spec['width']} images of {spec['channels']} channel(s), values 0..{spec['max_value']}"
            f", resized to {spec['size']}x{spec['size']} and normalized per channel")


def run(args):
    from . import modelfile, preprocess
    from .errors import CommandError

    try:
        from ..insight import model_summary
    except ImportError as error:
        raise CommandError(f"summary needs ganglion.insight, which this installation lacks ({error})") from None
    model, meta = modelfile.load(args.model)
    spec, classes, training = meta["preprocessing"], meta["classes"], meta["training"]
    source = meta["data"]
    print(f"model file: {args.model}")
    print(f"trained on: {source.get('path', source['data'])}, {training['epochs']} epoch(s) of {training['optimizer']} "
          f"(lr {training['lr']:g})")
    print(f"input: {describe_input(spec, len(meta['features']))}")
    print(f"classes ({len(classes)}): {', '.join(classes)}")
    print(model_summary(model, (args.batch_size, *preprocess.model_input_shape(spec))))
    return 0
