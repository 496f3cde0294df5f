"""Does memory stay flat over thousands of training steps whose shapes keep changing?

A conv + max-pool + LSTM model trained for 3000 steps with batch sizes 1-13 and sequence lengths 1-16 (every
combination recurs, so every shape the work-array pools see recurs too). Prints the peak resident memory and the
bytes cached for reuse every 500 steps: both should stop growing once the shapes have all been seen.

    python benchmarks/memory_flat.py
"""

import resource

import ganglion as g


def main(steps=3000):
    g.manual_seed(0)
    conv, lstm = g.nn.Conv2d(1, 8, 3, padding=1), g.nn.LSTM(8, 32)
    opt = g.optim.Adam(list(conv.parameters()) + list(lstm.parameters()), lr=1e-3)
    for step in range(steps):
        batch, length = 1 + step % 13, 1 + (step * 7) % 16
        images = g.nn.functional.max_pool2d(conv(g.randn(batch, 1, 8, 8)), 2)
        out, _ = lstm(images.flatten(2).permute(2, 0, 1)[:length])
        loss = out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 499:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
            print(f"step {step + 1:5d}: peak RSS {peak} MB, cached for reuse {g.memory.cached_bytes() >> 10} KB")


if __name__ == "__main__":
    main()
