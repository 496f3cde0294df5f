"""RAdam (Liu et al.): Adam whose adaptive step is switched on gradually, as the variance of its estimate allows."""

from .. import backend
from .optimizer import Optimizer, as_betas


class RAdam(Optimizer):
    """Rectified Adam.

    g = -grad if maximize else grad;  g += weight_decay * p  (or, decoupled: p *= 1 - lr * weight_decay);
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t);
    rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t);
    if rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
                   p -= lr m_hat sqrt(1 - b2^t) / (sqrt(v) + eps) r;
    else:          p -= lr m_hat  (plain momentum while the variance estimate is unreliable).

    State per parameter: step, exp_avg (m), exp_avg_sq (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def state_names(self, group):
        return ("exp_avg", "exp_avg_sq")

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, t = group["lr"], state.step
        g = self.decayed_grad(group, p, g, state)
        m, v, tmp, tmp2 = state.exp_avg, state.exp_avg_sq, state.tmp, state.tmp2
        self.update_moments_(m, v, g, beta1, beta2, tmp)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        xp.divide(m, bias_correction1, out=tmp2)  # m_hat
        tmp2 *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            tmp += group["eps"]
            xp.divide(bias_correction2**0.5, tmp, out=tmp)
            tmp2 *= tmp
            tmp2 *= rect
        p -= tmp2
