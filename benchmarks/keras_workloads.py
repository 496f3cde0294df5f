"""The Keras face's overhead: the iris example of the Keras issue (Sequential 4-8-6-3, HeNormal, L2 on the second
layer, softmax output, Adam, categorical cross-entropy with accuracy, ``fit`` for 50 epochs of batch 2 with
``validation_split=0.2``, verbose=0) against the same loop written by hand in PyTorch, and (run this file) against the
same loop written by hand on ganglion's engine, which gives the Keras face's cost per step. PyTorch runs on one
thread here (its fastest setting for such tiny ops; the previous setting is restored after each run).

    python benchmarks/keras_workloads.py [--rounds 5]
"""

import argparse
import statistics
import time

import numpy as np

EPOCHS, BATCH, L2 = 50, 2, 0.01


def _iris():
    from ganglion.data.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order][:120].astype(np.float32), y[order][:120]
    return x, np.eye(3, dtype=np.float32)[y]


def _keras_model():
    from ganglion.keras import activations, initializers, regularizers
    from ganglion.keras.layers import Dense
    from ganglion.keras.models import Sequential

    return Sequential([
        Dense(units=8, activation=activations.relu, input_shape=(4,), kernel_initializer=initializers.HeNormal()),
        Dense(units=6, activation="relu", kernel_regularizer=regularizers.L2(L2)),
        Dense(units=3, activation=activations.softmax),
    ])


def _weights(model):
    """The Keras model's weights as engine/PyTorch (out, in) weights and biases."""
    w = model.get_weights()
    return [(w[i].T.copy(), w[i + 1].copy()) for i in range(0, len(w), 2)]


def make_keras(x, y, reference):
    import ganglion
    from ganglion.keras import losses, optimizers

    def make():
        ganglion.manual_seed(1)
        model = _keras_model()
        model.set_weights(reference.get_weights())
        model.compile(optimizer=optimizers.Adam(), loss=losses.categorical_crossentropy, metrics=["accuracy"])

        def run():
            model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0, validation_split=0.2)

        return run

    return make


def make_engine(x, y, reference):
    """The same training written by hand on ganglion.nn / ganglion.optim, as lean as such a loop gets (batches
    sliced from NumPy, the loss on the logits, the L2 penalty as one op): the Keras face's floor. Keras also
    computes the softmax probabilities and the accuracy metric, which this loop skips in training."""

    def make():
        import ganglion
        import ganglion.nn.functional as F
        from ganglion import nn
        from ganglion.nn.utils.penalties import l2_penalty

        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
        for layer, (w, b) in zip([model[0], model[2], model[4]], _weights(reference)):
            layer.weight.data = ganglion.from_numpy(w)
            layer.bias.data = ganglion.from_numpy(b)
        opt = ganglion.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        xs, ys, xv, yv = x[:96], y[:96], x[96:], y[96:]
        rng = np.random.default_rng(0)

        def run():
            for _ in range(EPOCHS):
                model.train()
                order = rng.permutation(96)
                for start in range(0, 96, BATCH):
                    idx = order[start:start + BATCH]
                    logits = model(ganglion.from_numpy(xs[idx]))
                    loss = F.cross_entropy(logits, ganglion.from_numpy(ys[idx])) + l2_penalty([model[2].weight], L2)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                model.eval()
                with ganglion.no_grad():  # Keras validates in batches of batch_size too
                    for start in range(0, 24, BATCH):
                        logits = model(ganglion.from_numpy(xv[start:start + BATCH]))
                        target = ganglion.from_numpy(yv[start:start + BATCH])
                        F.cross_entropy(logits, target).item()
                        (logits.argmax(-1) == target.argmax(-1)).float().mean().item()

        return run

    return make


def make_torch(x, y, reference):
    def make():
        import torch
        import torch.nn.functional as F

        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.ReLU(),
                                    torch.nn.Linear(6, 3))
        with torch.no_grad():
            for layer, (w, b) in zip([model[0], model[2], model[4]], _weights(reference)):
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        xs, ys = torch.from_numpy(x[:96]), torch.from_numpy(y[:96])
        xv, yv = torch.from_numpy(x[96:]), torch.from_numpy(y[96:])

        def run():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # PyTorch's fastest setting for these tiny ops (restored after the run)
            try:
                loop()
            finally:
                torch.set_num_threads(threads)

        def loop():
            for _ in range(EPOCHS):
                model.train()
                order = torch.randperm(96)
                for start in range(0, 96, BATCH):
                    idx = order[start:start + BATCH]
                    logits = model(xs[idx])
                    loss = F.cross_entropy(logits, ys[idx]) + L2 * (model[2].weight ** 2).sum()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                model.eval()
                with torch.no_grad():  # Keras validates in batches of batch_size too
                    for start in range(0, 24, BATCH):
                        logits = model(xv[start:start + BATCH])
                        F.cross_entropy(logits, yv[start:start + BATCH]).item()
                        (logits.argmax(-1) == yv[start:start + BATCH].argmax(-1)).float().mean().item()

        return run

    return make


def make_pair():
    import ganglion

    x, y = _iris()
    ganglion.manual_seed(0)
    reference = _keras_model()
    return make_keras(x, y, reference), make_torch(x, y, reference)


WORKLOADS = {
    "keras iris fit, 50 epochs of batch 2, val 0.2": make_pair,
}


def main(argv=None):
    """Keras fit vs the hand-written engine loop vs PyTorch, in one process: time per step and the overhead."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    import ganglion

    x, y = _iris()
    ganglion.manual_seed(0)
    reference = _keras_model()
    runs = {"keras fit": make_keras(x, y, reference)(), "engine loop": make_engine(x, y, reference)()}
    if not args.no_torch:
        runs["pytorch loop"] = make_torch(x, y, reference)()
    times = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for r in range(args.rounds):
        for name, run in (list(runs.items()) if r % 2 == 0 else list(runs.items())[::-1]):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    steps = EPOCHS * (96 // BATCH)
    per_step = {name: statistics.median(t) / steps * 1e6 for name, t in times.items()}
    for name, us in per_step.items():
        print(f"{name:<14} {us:8.1f} us/step  (median of {args.rounds} runs of {steps} training steps and "
              f"{EPOCHS * 12} validation batches, per training step)")
    overhead = per_step["keras fit"] - per_step["engine loop"]
    print(f"Keras face overhead: {overhead:.1f} us/step ({per_step['keras fit'] / per_step['engine loop']:.2f}x the "
          f"engine loop)")
    if "pytorch loop" in per_step:
        print(f"keras fit / pytorch loop: {per_step['keras fit'] / per_step['pytorch loop']:.2f}x")


if __name__ == "__main__":
    main()
