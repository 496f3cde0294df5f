"""AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient."""

from .adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly instead of entering the moments.

    p *= 1 - lr * weight_decay;  then Adam's step with g = grad (-grad if maximize):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

    State per parameter: step, exp_avg, exp_avg_sq, max_exp_avg_sq (AMSGrad). Default weight_decay 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As Optimizer.load_state_dict; the weight decay stays decoupled whatever the saved groups say."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
