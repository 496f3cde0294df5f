"""A small GAN in PyTorch on 2-D Gaussian data.

The data are points from a Gaussian centred at (2, -1). A generator MLP maps 4-D noise to 2-D points; a
discriminator MLP scores points (a logit). Each step trains the discriminator on real points (label 1) and generated
points taken through ``detach()`` (label 0), then the generator to make the discriminator say 1; BCEWithLogitsLoss
and one Adam optimizer per network (betas 0.5, 0.999, as DCGAN-style tutorials set them). The generated mean must
move from near the origin toward the data mean.
"""

import torch
import torch.nn as nn

DATA_MEAN = (2.0, -1.0)


def main():
    torch.manual_seed(0)
    noise_size = 4
    generator = nn.Sequential(nn.Linear(noise_size, 16), nn.LeakyReLU(0.2), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    criterion = nn.BCEWithLogitsLoss()
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=0.01, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=0.01, betas=(0.5, 0.999))
    data_mean = torch.tensor(DATA_MEAN)
    probe_noise = torch.randn(500, noise_size)

    with torch.no_grad():
        start_mean = generator(probe_noise).mean(dim=0)
    batch = 64
    real_labels, fake_labels = torch.ones(batch, 1), torch.zeros(batch, 1)
    d_losses, g_losses = [], []
    for _ in range(200):
        real = data_mean + 0.5 * torch.randn(batch, 2)
        fake = generator(torch.randn(batch, noise_size))

        d_optimizer.zero_grad()
        d_loss = criterion(discriminator(real), real_labels) + criterion(discriminator(fake.detach()), fake_labels)
        d_loss.backward()
        d_optimizer.step()

        g_optimizer.zero_grad()
        g_loss = criterion(discriminator(fake), real_labels)
        g_loss.backward()
        g_optimizer.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())

    generator.eval()
    with torch.no_grad():
        end_mean = generator(probe_noise).mean(dim=0)
    return {
        "start_distance": (start_mean - data_mean).norm().item(),
        "end_distance": (end_mean - data_mean).norm().item(),
        "generated_mean": end_mean.tolist(),
        "last_d_loss": sum(d_losses[-50:]) / 50,
        "last_g_loss": sum(g_losses[-50:]) / 50,
        "discriminator_grads_present": all(p.grad is not None for p in discriminator.parameters()),
    }


if __name__ == "__main__":
    print(main())
