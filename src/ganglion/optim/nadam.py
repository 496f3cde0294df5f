"""NAdam (Dozat): Adam with Nesterov momentum, and PyTorch's momentum schedule (momentum_decay)."""

from .. import backend
from .optimizer import Optimizer, as_betas, check_betas, check_non_negative, lerp_


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

    def _check_group(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("epsilon value", group["eps"])
        check_betas(group["betas"])
        check_non_negative("weight_decay value", group["weight_decay"])
        check_non_negative("momentum_decay value", group["momentum_decay"])

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
        m, v, tmp, tmp2 = state.exp_avg, state.exp_avg_sq, state.tmp, state.tmp2
        lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp
        xp.divide(v, 1 - beta2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += group["eps"]
        xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp2)
        tmp2 /= tmp
        p += tmp2
        xp.multiply(m, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=tmp2)
        tmp2 /= tmp
        p += tmp2
