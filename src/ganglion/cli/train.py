"""``ganglion train``: train a classifier on a dataset or a CSV table and save it as a model file that ``predict``,
``evaluate`` and ``summary`` use on their own.

With no arguments it trains the notes' iris network (4-8-6-3, ReLU, ReLU, softmax; Adam, lr 0.001; categorical
cross-entropy; 50 epochs of batch 2; 20% of the rows held out) in a few seconds, offline.
"""

import os
import sys

import numpy as np

from . import data as datasets
from .common import add_placement_arguments, command_parser, device, fraction, positive_float, positive_int, widths
from .errors import CommandError, UsageError
from .models import IMAGE_MODELS, MODELS

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "exponential", "cosine")
SHORT = {"train_loss": "loss", "train_accuracy": "acc", "val_loss": "val_loss", "val_accuracy": "val_acc"}


def add_parser(commands):
    parser = command_parser(
        commands, "train", "train a classifier and save it as a model file",
        "Train a classifier and save it (weights, class names, preprocessing) as a model file. With no arguments: the "
        "notes' iris network, offline, in seconds. Progress and logs go to stderr, the results to stdout.")
    parser.add_argument("--data", default="iris", help="iris, digits (both bundled), mnist, fashion_mnist, cifar10 "
                        "(files read offline from --data-root, see docs/datasets.md), or a path to a .csv table "
                        "(with --target)")
    parser.add_argument("--target", metavar="COLUMN", help="the CSV column holding each row's class (for a .csv "
                        "--data; the other columns, all numeric, are the features)")
    parser.add_argument("--model", choices=MODELS, default="mlp",
                        help="mlp for any data; lenet, vgg11, resnet18 (ganglion.vision.models) for image data")
    parser.add_argument("--hidden", type=widths, default="8,6", metavar="8,6",
                        help="the MLP's hidden layer widths, comma-separated")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                        help="momentum is SGD with momentum 0.9")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="learning rate")
    parser.add_argument("--schedule", choices=SCHEDULES, default="none",
                        help="learning-rate schedule, stepped once per epoch: step (x0.1 every third of the epochs), "
                             "exponential (x0.95 per epoch), cosine (to 0 over the epochs)")
    parser.add_argument("--epochs", type=positive_int, default=50, help="passes over the training rows")
    parser.add_argument("--batch-size", type=positive_int, default=2, help="rows per optimizer step")
    parser.add_argument("--val-split", "--test-size", dest="val_split", type=fraction, default=0.2,
                        help="fraction of the training rows held out for validation (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, the split and the batch order")
    parser.add_argument("--out", metavar="PATH", help="where to save the model (default: models/DATA-MODEL"
                        ".safetensors, numbered -2, -3, ... if that file exists; an --out that exists is refused "
                        "without --force)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    add_placement_arguments(parser)
    parser.add_argument("--doctor", action="store_true", help="watch the training with ganglion.insight.Doctor and "
                        "print its diagnoses to stderr at the end")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar; one log line per epoch instead")
    parser.set_defaults(run=run)
    return parser


def split_indices(n, val_split, rng):
    """A shuffled (train, validation) split of range(n) with round(val_split * n) validation rows."""
    order = rng.permutation(n)
    n_val = int(round(val_split * n))
    return order[n_val:], order[:n_val]


def default_out(args):
    name = os.path.splitext(os.path.basename(args.data))[0] if datasets.is_csv(args.data) else args.data
    return os.path.join("models", f"{name}-{args.model}.safetensors")


def make_optimizer(name, parameters, lr):
    from .. import optim

    if name == "momentum":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    return {"sgd": optim.SGD, "adagrad": optim.Adagrad, "rmsprop": optim.RMSprop, "adam": optim.Adam,
            "adamw": optim.AdamW}[name](parameters, lr=lr)


def make_schedule(name, optimizer, epochs):
    from ..optim import lr_scheduler

    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    return None


def make_doctor(model, optimizer):
    """``ganglion.insight.Doctor`` watching ``model`` (imported here: insight is an optional view on training)."""
    try:
        from ..insight import Doctor
    except ImportError as error:
        raise CommandError(f"--doctor needs ganglion.insight, which this installation lacks ({error})") from None

    return Doctor(model, optimizer)


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args):
    import ganglion
    from . import modelfile, preprocess
    from .models import build, image_size

    datasets.check_data_argument(args.data, args.target)
    if args.model in IMAGE_MODELS and args.data not in datasets.IMAGES:
        raise UsageError(f"--model {args.model} takes images; --data {args.data} is a table. Use --model mlp, or "
                         f"image data ({', '.join(datasets.IMAGES)})")
    placed = device(args.device)
    examples = datasets.load(args.data, "train", args.target, args.data_root, args.download)
    out, note = modelfile.resolve_out(args.out, default_out(args), args.force)  # before training, not after
    if note:
        log(note)
    train_idx, val_idx = split_indices(len(examples.x), args.val_split, np.random.default_rng(args.seed))
    if args.model == "mlp":
        spec = preprocess.fit_standardize(examples.x[train_idx])
    else:
        image = examples.image
        spec = preprocess.fit_image(examples.x[train_idx], image, image_size(args.model, image["height"],
                                                                             image["width"]))
    x = preprocess.apply(spec, examples.x)
    ganglion.manual_seed(args.seed)
    model = build(args.model, preprocess.model_input_shape(spec), len(examples.classes), args.hidden)
    model.to(placed)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    schedule = make_schedule(args.schedule, optimizer, args.epochs)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"data: {examples.description}: {len(train_idx)} for training, {len(val_idx)} for validation")
    log(f"model: {args.model} ({n_params:,} parameters), {args.optimizer} lr {args.lr:g}"
        f"{'' if schedule is None else ', ' + args.schedule + ' schedule'}, {args.epochs} epoch(s) of batch "
        f"{args.batch_size}, on {placed}")

    logits_model = model[:-1]  # shares the layers; the last one is the softmax
    doctor = make_doctor(logits_model, optimizer) if args.doctor else None
    try:
        history = fit(model, logits_model, optimizer, schedule, doctor, x, examples.y, train_idx, val_idx, args,
                      placed)
    finally:
        if doctor is not None:
            doctor.close()
    results = history[-1]
    meta = {
        "classes": examples.classes, "features": examples.features, "preprocessing": spec,
        "data": examples.source,
        "model": {"name": args.model, "hidden": list(args.hidden) if args.model == "mlp" else None},
        "training": {"optimizer": args.optimizer, "lr": args.lr, "schedule": args.schedule, "epochs": args.epochs,
                     "batch_size": args.batch_size, "val_split": args.val_split, "seed": args.seed,
                     "rows": len(examples.x), "ganglion": ganglion.__version__},
        "results": results,
    }
    modelfile.save(model, out, meta)
    if doctor is not None:
        log(str(doctor))
    print(f"train loss: {results['train_loss']:.4f}")
    print(f"train accuracy: {results['train_accuracy']:.4f} ({len(train_idx)} rows)")
    if len(val_idx):
        print(f"validation loss: {results['val_loss']:.4f}")
        print(f"validation accuracy: {results['val_accuracy']:.4f} ({len(val_idx)} rows)")
    print(f"saved model to {out}")
    return 0


def fit(model, logits_model, optimizer, schedule, doctor, x, y, train_idx, val_idx, args, placed):
    """Train ``logits_model`` (``model[:-1]``: the model without its softmax) with cross-entropy, which applies
    softmax and the log as one stable op. Returns one dict of metrics per epoch."""
    import ganglion
    from tqdm import tqdm

    from ..nn import functional as F

    x_val, y_val = x[val_idx], y[val_idx]
    batch_rng = np.random.default_rng(args.seed + 1)
    n, batch_size = len(train_idx), args.batch_size
    batches = -(-n // batch_size)
    bar = tqdm(total=args.epochs * batches, unit="batch", disable=args.no_progress, file=sys.stderr, leave=True,
               mininterval=0.2)
    history = []
    for epoch in range(1, args.epochs + 1):
        bar.set_description(f"epoch {epoch}/{args.epochs}")
        model.train()
        order = train_idx[batch_rng.permutation(n)]
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = ganglion.tensor(x[idx], device=placed), ganglion.tensor(y[idx], device=placed)
            logits = logits_model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            if doctor is not None:
                doctor.step(loss)
            optimizer.step()
            total += loss.item() * len(idx)
            correct += int((ganglion.backend.to_numpy(logits.array).argmax(axis=1) == y[idx]).sum())
            bar.update(1)
        record = {"epoch": epoch, "train_loss": total / n, "train_accuracy": correct / n}
        if len(val_idx):
            record.update(validation(logits_model, x_val, y_val, placed))
            if doctor is not None:
                doctor.record_validation(record["train_loss"], record["val_loss"])
        history.append(record)
        shown = {SHORT[k]: f"{v:.4f}" for k, v in record.items() if k != "epoch"}
        bar.set_postfix(shown, refresh=False)
        if args.no_progress:
            log(f"epoch {epoch}/{args.epochs}: " + " ".join(f"{k} {v}" for k, v in shown.items()))
        if schedule is not None:
            schedule.step()
    bar.close()
    return history


def validation(logits_model, x, y, placed, batch_size=256):
    """{"val_loss", "val_accuracy"} of the logits model on rows ``x`` with labels ``y``."""
    import ganglion
    from ..nn import functional as F

    logits_model.eval()
    total, correct = 0.0, 0
    with ganglion.no_grad():
        for start in range(0, len(x), batch_size):
            xb = ganglion.tensor(x[start:start + batch_size], device=placed)
            yb = ganglion.tensor(y[start:start + batch_size], device=placed)
            logits = logits_model(xb)
            total += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((ganglion.backend.to_numpy(logits.array).argmax(axis=1) == y[start:start + batch_size])
                           .sum())
    return {"val_loss": total / len(x), "val_accuracy": correct / len(x)}
