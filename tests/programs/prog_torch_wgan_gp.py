"""Second derivatives in PyTorch: a WGAN with gradient penalty, and Hessian-vector products for a Newton step.

Part 1 trains a Wasserstein GAN on 2-D Gaussian data. The critic's loss adds lambda (|d critic / d x| - 1)^2 at
points between real and generated samples; that gradient comes from ``torch.autograd.grad(..., create_graph=True)``
and the penalty's own gradient (the critic's second derivatives) trains the critic. The generated mean must move
toward the data mean, and the critic's gradient norm at the interpolates must settle near 1.

Part 2 fits a small regression network whose weights the program sets itself. It computes Hessian-vector products
by double backward and takes a few conjugate-gradient Newton steps with them; the losses, and one HVP, are
the framework's alone and must match across frameworks to float32 rounding.
"""

import numpy as np
import torch
import torch.nn as nn

DATA_MEAN = (1.5, -1.0)


def wgan_gp():
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    g_opt = torch.optim.Adam(generator.parameters(), lr=5e-3, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(critic.parameters(), lr=5e-3, betas=(0.5, 0.9))
    data_mean = torch.tensor(DATA_MEAN)
    probe = torch.randn(400, 2)
    with torch.no_grad():
        start = (generator(probe).mean(dim=0) - data_mean).norm().item()
    batch, penalty_weight = 64, 1.0
    norms = []
    for step in range(150):
        for _ in range(2):
            real = data_mean + 0.3 * torch.randn(batch, 2)
            fake = generator(torch.randn(batch, 2)).detach()
            alpha = torch.rand(batch, 1)
            mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
            grad_norm = grad.norm(2, dim=1)
            penalty = ((grad_norm - 1) ** 2).mean()
            c_loss = critic(fake).mean() - critic(real).mean() + penalty_weight * penalty
            c_opt.zero_grad()
            c_loss.backward()
            c_opt.step()
        norms.append(grad_norm.mean().item())
        g_loss = -critic(generator(torch.randn(batch, 2))).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
    with torch.no_grad():
        end = (generator(probe).mean(dim=0) - data_mean).norm().item()
    return {"start_distance": start, "end_distance": end, "late_grad_norm": sum(norms[-30:]) / 30}


def _set_weights(model):
    rng = np.random.default_rng(5)
    state = {k: torch.tensor(rng.standard_normal(tuple(v.shape)) * 0.5, dtype=torch.float32)
             for k, v in model.state_dict().items()}
    model.load_state_dict(state)


def hessian_free_newton():
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    _set_weights(model)
    params = list(model.parameters())
    grid = np.linspace(-1.0, 1.0, 24, dtype=np.float32)
    x = torch.tensor(np.stack([grid, grid ** 2, np.sin(3 * grid)], axis=1))
    y = torch.tensor((np.cos(2 * grid) + 0.5 * grid)[:, None].astype(np.float32))

    def loss_fn():
        return nn.functional.mse_loss(model(x), y)

    def hvp(vectors):
        grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vectors))
        return [h.detach() for h in torch.autograd.grad(dot, params)]

    first_hvp = hvp([torch.ones_like(p) for p in params])
    losses = [loss_fn().item()]
    for _ in range(3):
        grads = [g.detach() for g in torch.autograd.grad(loss_fn(), params)]
        # conjugate gradient on (H + damping) d = -g, 5 iterations
        damping = 1.0
        d = [torch.zeros_like(p) for p in params]
        r = [-g for g in grads]
        p_dir = [t.clone() for t in r]
        rs = sum((t * t).sum() for t in r)
        for _ in range(5):
            hp = [h + damping * q for h, q in zip(hvp(p_dir), p_dir)]
            step = rs / sum((q * h).sum() for q, h in zip(p_dir, hp))
            d = [a + step * q for a, q in zip(d, p_dir)]
            r = [a - step * h for a, h in zip(r, hp)]
            rs_new = sum((t * t).sum() for t in r)
            p_dir = [a + (rs_new / rs) * q for a, q in zip(r, p_dir)]
            rs = rs_new
        with torch.no_grad():
            for p, delta in zip(params, d):
                p.add_(delta)
        losses.append(loss_fn().item())
    return {"newton_losses": losses, "first_hvp": [float(h.sum()) for h in first_hvp]}


def main():
    return {**wgan_gp(), **hessian_free_newton()}


if __name__ == "__main__":
    print(main())
