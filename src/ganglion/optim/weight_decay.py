"""Decoupled weight decay (Loshchilov & Hutter), written once for every optimizer that uses it: AdamW and the
``decoupled_weight_decay`` option of Adam, RAdam and NAdam, Lion, and the Keras optimizers' ``weight_decay``."""


def decoupled_weight_decay_(p, lr, weight_decay):
    """p <- p (1 - lr * weight_decay), in place, before the update (not added to the gradient, unlike L2 decay).

    p: an array (a flat group, a parameter's ``.array`` or a slice of either); returns p. Nothing is done when
    ``weight_decay`` is 0.
    """
    if weight_decay:
        p *= 1 - lr * weight_decay
    return p
