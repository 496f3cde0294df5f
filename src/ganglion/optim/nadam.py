"""NAdam (Dozat): Adam with Nesterov momentum, and PyTorch's momentum schedule (momentum_decay)."""

from .. import backend
from .optimizer import Optimizer, addcdiv_, as_betas


class NAdam(Optimizer):
    """Nesterov-accelerated adaptive moment estimation.

    g = -grad if maximize else grad;  g += weight_decay * p  (or, decoupled: p *= 1 - lr * weight_decay);
    mu_t = b1 (1 - 0.5 * 0.96^(t * momentum_decay));  P_t = mu_1 ... mu_t;
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  d = sqrt(v / (1 - b2^t)) + eps;
    p -= lr (1 - mu_t) / (1 - P_t) * g / d  +  lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d.

    State per parameter: step, mu_product (P_t, a scalar kept in float32 as PyTorch does), exp_avg, exp_avg_sq.
    """

    scalar_state = frozenset({"mu_product"})

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach))

    def state_names(self, group):
        return ("mu_product", "exp_avg", "exp_avg_sq")

    def initial_state(self, group, name):
        return 1.0 if name == "mu_product" else 0.0

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, t, decay = group["lr"], state.step, group["momentum_decay"]
        g = self.decayed_grad(group, p, g, state)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        state.mu_product = state.mu_product * mu  # in the scalar dtype (float32), rounded as PyTorch's
        mu_product = float(state.mu_product)
        m, v, tmp = state.exp_avg, state.exp_avg_sq, state.tmp
        self.update_moments_(m, v, g, beta1, beta2, tmp)
        xp.divide(v, 1 - beta2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += group["eps"]
        addcdiv_(p, g, tmp, -lr * (1.0 - mu) / (1.0 - mu_product), state.tmp2)
        addcdiv_(p, m, tmp, (-lr * mu_next) / (1.0 - mu_product * mu_next), state.tmp2)
