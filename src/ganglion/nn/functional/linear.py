"""``linear``: y = x W^T + b as one fused op (one matrix product forward, two backward)."""

from ...autograd.function import Function


class Linear(Function):
    """y = x W^T + b.  x: (*, in), W: (out, in), b: (out,) -> y: (*, out).

    dL/dx = dy W,  dL/dW = dy^T x (summed over all leading dims),  dL/db = sum of dy over leading dims.
    """

    def forward(self, x, weight, bias):
        y = x @ weight.T
        if bias is not None:
            y += bias
        self.save(x, weight)
        return y

    def backward(self, dy):
        x, weight = self.saved
        needs = self.needs_input_grad
        dx = dy @ weight if needs[0] else None
        dw = db = None
        if needs[1]:
            if dy.ndim == 2:
                dw = dy.T @ x
            else:
                dw = dy.reshape(-1, dy.shape[-1]).T @ x.reshape(-1, x.shape[-1])
        if needs[2]:
            db = dy.sum(axis=0) if dy.ndim == 2 else dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dx, dw, db


def linear(input, weight, bias=None):
    """y = x W^T + b for x of shape (*, in_features) and W of shape (out_features, in_features)."""
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} does not match weight of shape {tuple(weight.shape)}: "
            f"expected the last dimension to be {weight.shape[-1]}"
        )
    return Linear.apply(input, weight, bias)
