"""A small DCGAN in PyTorch, in the manner of the DCGAN tutorial, on 16 x 16 digit images.

The generator maps noise of shape (N, 8, 1, 1) to a 1 x 16 x 16 image through ConvTranspose2d (no bias) ->
BatchNorm2d -> ReLU(inplace) blocks and a last ConvTranspose2d -> Tanh; the discriminator takes the image through
Conv2d (no bias) -> LeakyReLU(0.2, inplace), Conv2d -> BatchNorm2d -> LeakyReLU, and a last Conv2d to one value ->
Sigmoid, flattened with ``view(-1)``. A ``weights_init`` function chosen by class name (N(0, 0.02) for convolutions,
N(1, 0.02) and a zero shift for batch norms) goes through ``model.apply``; its statistics are recorded, then the
program overwrites every parameter with values of the same law from a seeded NumPy generator, so that both
frameworks start alike.

The real images are the bundled 8 x 8 digits stretched to 16 x 16 and scaled to [-1, 1], read by a DataLoader in
batches of 16 and a last one of 8. Each iteration is the tutorial's: the discriminator on a real batch (labels made
by ``torch.full`` and refilled in place with ``fill_``) and on ``fake.detach()``, BCELoss, one Adam step; then the
generator through the updated discriminator with real labels, one Adam step (lr 2e-4, betas 0.5, 0.999). The noise
comes from NumPy too, so the losses per iteration, D(x), D(G(z)) and the generator's images for a fixed noise batch
(in training mode under ``no_grad()``, as the tutorial's progress images, which still move the running statistics;
then in eval mode) are the framework's numbers alone. Last, the same training runs in one thread while another thread
samples from a second generator in eval mode under ``no_grad()``: both must give exactly what they gave alone.
"""

import sys
import threading

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from ganglion.data import datasets  # the digits table ships with ganglion (no download); plain NumPy arrays
from digits_images import stretch  # 8 x 8 -> larger, NumPy alone

NZ = 8       # length of the noise vector
NGF = 8      # generator feature maps
NDF = 8      # discriminator feature maps
IMAGES = 72  # 4 batches of 16, then one of 8
BATCH = 16
EPOCHS = 2


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False),       # 1 -> 4
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),      # 4 -> 8
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False),            # 8 -> 16
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=False),                     # 16 -> 8
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),               # 8 -> 4
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False),                 # 4 -> 1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)


def weights_init(m):
    """Convolutions from N(0, 0.02); batch norms' scales from N(1, 0.02), their shifts zero."""
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias.data)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def init_statistics(netG, netD):
    """What weights_init left: the convolutions' spread and mean, the batch norms' scales and shifts."""
    conv, scales, shifts = [], [], []
    for net in (netG, netD):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                conv.append(m.weight.detach().numpy().ravel())
            elif isinstance(m, nn.BatchNorm2d):
                scales.append(m.weight.detach().numpy().ravel())
                shifts.append(m.bias.detach().numpy().ravel())
    conv, scales, shifts = np.concatenate(conv), np.concatenate(scales), np.concatenate(shifts)
    return {"init_conv_std": float(conv.std()), "init_conv_mean": float(conv.mean()),
            "init_bn_scale_mean": float(scales.mean()), "init_bn_scale_std": float(scales.std()),
            "init_bn_shift_largest": float(np.abs(shifts).max())}


def set_weights(model, rng):
    """weights_init's law again, drawn from ``rng``: the same start in any framework."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            shape = tuple(parameter.shape)
            if len(shape) > 1:                 # a convolution
                values = rng.normal(0.0, 0.02, shape)
            elif name.endswith("weight"):      # a batch norm's scale
                values = rng.normal(1.0, 0.02, shape)
            else:                              # a batch norm's shift
                values = np.zeros(shape)
            parameter.copy_(torch.from_numpy(values.astype(np.float32)))


def real_images():
    """The first IMAGES digits, 16 x 16, in [-1, 1]: (IMAGES, 1, 16, 16) float32."""
    digits = datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))[:IMAGES]
    images = np.clip(stretch(digits.images[order], 16) / 16.0, 0.0, 1.0) * 2.0 - 1.0
    return images.astype(np.float32)[:, None]


def noise(rng, n):
    return torch.from_numpy(rng.standard_normal((n, NZ, 1, 1)).astype(np.float32))


def train(images, seed):
    """The tutorial's loop for EPOCHS epochs from weights and noise drawn with ``seed``; its numbers by name."""
    rng = np.random.default_rng(seed)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    set_weights(netG, rng)
    set_weights(netD, rng)

    dataloader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=BATCH, shuffle=False)
    criterion = nn.BCELoss()
    fixed_noise = noise(rng, 6)
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    record = {"errD": [], "errG": [], "D_x": [], "D_G_z1": [], "D_G_z2": [], "batch_sizes": []}
    for epoch in range(EPOCHS):
        for i, data in enumerate(dataloader, 0):
            # (1) the discriminator: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = data[0]
            b_size = real.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            fake = netG(noise(rng, b_size))
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) the generator: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # the generator wants fakes called real
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            for key, value in (("errD", errD.item()), ("errG", errG.item()), ("D_x", D_x), ("D_G_z1", D_G_z1),
                               ("D_G_z2", D_G_z2), ("batch_sizes", b_size)):
                record[key].append(value)

    with torch.no_grad():  # the tutorial's progress images: still in training mode (batch statistics)
        progress = netG(fixed_noise).detach()
    netG.eval()
    netD.eval()
    with torch.no_grad():
        samples = netG(fixed_noise).detach()
        real_scores = netD(torch.from_numpy(images[:5])).view(-1)
    record["progress_images"] = progress.numpy().ravel().tolist()
    record["fixed_noise_images"] = samples.numpy().ravel().tolist()
    record["sample_shape"] = list(samples.shape)
    record["eval_real_scores"] = real_scores.tolist()
    record["parameters"] = [p.detach().numpy().copy() for net in (netG, netD) for p in net.parameters()]
    return record


def sample(seed, rounds):
    """A second generator, in eval mode under no_grad, sampling batches of 1 to 5: the images, and whether any
    output wanted a gradient."""
    rng = np.random.default_rng(seed)
    netG = Generator()
    set_weights(netG, rng)
    netG.eval()
    outputs, wanted_grad = [], False
    with torch.no_grad():
        for r in range(rounds):
            out = netG(noise(rng, 1 + r % 5))
            wanted_grad = wanted_grad or out.requires_grad
            outputs.append(out.numpy().ravel())
    return {"samples": np.concatenate(outputs), "wanted_grad": wanted_grad}


def main():
    torch.manual_seed(0)
    images = real_images()
    results = {}

    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    results.update(init_statistics(netG, netD))

    alone = train(images, seed=1)
    alone_samples = sample(seed=2, rounds=60)

    threaded, errors = {}, []

    def work(name, function, *args):
        try:
            threaded[name] = function(*args)
        except BaseException as error:  # re-raised by the main thread
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so the training and the sampling interleave everywhere
    try:
        workers = [threading.Thread(target=work, args=("train", train, images, 1)),
                   threading.Thread(target=work, args=("sample", sample, 2, 60))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]

    gaps = [np.abs(np.subtract(alone[key], threaded["train"][key])).max()
            for key in ("errD", "errG", "D_x", "D_G_z1", "D_G_z2", "progress_images", "fixed_noise_images",
                        "eval_real_scores")]
    gaps += [np.abs(p - q).max() for p, q in zip(alone["parameters"], threaded["train"]["parameters"])]
    results["threaded_vs_alone"] = float(max(gaps))
    sampled = threaded["sample"]
    results["sampling_threaded_vs_alone"] = float(np.abs(alone_samples["samples"] - sampled["samples"]).max())
    results["sampling_wanted_grad"] = bool(alone_samples["wanted_grad"] or sampled["wanted_grad"])

    for key in ("errD", "errG", "D_x", "D_G_z1", "D_G_z2", "progress_images", "fixed_noise_images", "sample_shape",
                "eval_real_scores", "batch_sizes"):
        results[key] = alone[key]
    results["iterations"] = len(alone["errD"])
    results["first_errD"], results["last_errD"] = alone["errD"][0], alone["errD"][-1]
    results["first_D_x"], results["last_D_x"] = alone["D_x"][0], alone["D_x"][-1]
    results["d_step_lowered_fake_scores"] = all(z2 < z1 for z1, z2 in zip(alone["D_G_z1"], alone["D_G_z2"]))
    return results


if __name__ == "__main__":
    print({key: value[:4] if isinstance(value, list) else value for key, value in main().items()})
