"""``einsum``: sums of products over labelled dimensions, with gradients.

The equation is rewritten into single letters first: ``...`` becomes explicit letters (right-aligned across the
operands, as NumPy broadcasts them) and a size-1 dim that broadcasts against a larger one is dropped from its
operand, so that ``xp.einsum`` sees every letter at one size. The gradient of operand k is another einsum: the
output gradient contracted with the other operands, yielding operand k's letters.
"""

import string

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .indexing import accumulate_at


class _Plan:
    """The parsed equation: ``inputs`` (one letter string per operand, broadcast dims dropped), ``output``,
    ``sizes`` (letter -> size) and ``shapes`` (each operand's original shape)."""

    def __init__(self, equation, shapes):
        equation = equation.replace(" ", "")
        lhs, arrow, rhs = equation.partition("->")
        specs = lhs.split(",")
        if len(specs) > len(shapes):
            raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
        if len(specs) < len(shapes):
            raise RuntimeError("einsum(): more operands were provided than specified in the equation")
        for ch in equation:
            if ch not in string.ascii_letters + ".,->":
                raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index(ch)} in the equation "
                                   f"string, subscripts must be in [a-zA-Z]")
        spare = [c for c in string.ascii_letters if c not in equation]
        n_ellipsis = max([len(s) - len(spec.replace("...", "")) for spec, s in zip(specs, shapes)] + [0])
        ellipsis = "".join(spare[:n_ellipsis])
        self.shapes = shapes
        letters = []
        for k, (spec, shape) in enumerate(zip(specs, shapes)):
            named = len(spec.replace("...", ""))
            if "..." in spec:
                dims = len(shape) - named
                spec = spec.replace("...", ellipsis[n_ellipsis - dims:] if dims else "")
            elif named != len(shape):
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({named}) does not match the number of "
                    f"dimensions ({len(shape)}) for operand {k} and no ellipsis was given"
                )
            letters.append(spec)
        self.sizes = {}
        for k, (spec, shape) in enumerate(zip(letters, shapes)):
            seen = {}
            for ch, n in zip(spec, shape):
                if ch in seen and seen[ch] != n:
                    raise RuntimeError(f"einsum(): subscript {ch} is repeated for operand {k} but the sizes don't "
                                       f"match, {seen[ch]} != {n}")
                seen[ch] = n
                old = self.sizes.get(ch, 1)
                if n != old and 1 not in (n, old):
                    raise RuntimeError(f"einsum(): subscript {ch} has size {n} for operand {k} which does not "
                                       f"broadcast with previously seen size {old}")
                self.sizes[ch] = max(n, old)
        # a size-1 dim against a larger size contributes the same value everywhere: drop its letter
        self.kept = [tuple(not (n == 1 and self.sizes[ch] > 1) for ch, n in zip(spec, shape))
                     for spec, shape in zip(letters, shapes)]
        self.inputs = ["".join(ch for ch, keep in zip(spec, kept) if keep) for spec, kept in zip(letters, self.kept)]
        if arrow:
            output = rhs.replace("...", ellipsis)
            for ch in output:
                if ch not in self.sizes:
                    raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the equation for any "
                                       "input operand")
                if output.count(ch) > 1:
                    raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in the output")
        else:
            counts = "".join(letters)
            output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis))
        self.output = output

    def squeezed(self, k, array):
        """Operand k's array without its dropped (broadcast) dims."""
        return array.reshape(tuple(n for n, keep in zip(array.shape, self.kept[k]) if keep))


class Einsum(Function):
    """y = einsum(plan, x_1, ..., x_m);  dx_k = einsum(dy, x_j for j != k) onto x_k's letters.

    A letter only in x_k (summed away) gets the gradient broadcast along it; a letter repeated in x_k (a diagonal)
    gets it written on that diagonal, zeros elsewhere.
    """

    def forward(self, plan, *arrays):
        xp = self.xp
        arrays = [plan.squeezed(k, a) for k, a in enumerate(arrays)]
        y = xp.einsum(",".join(plan.inputs) + "->" + plan.output, *arrays, optimize=len(arrays) > 2)
        self.save(plan, *arrays)
        return y.copy() if y.base is not None else y  # a permutation or diagonal comes back as a view of an input

    def backward(self, dy):
        plan, *arrays = self.saved
        return (None,) + tuple(
            self._operand_grad(plan, arrays, k, dy) if self.needs_input_grad[k + 1] else None
            for k in range(len(arrays))
        )

    def backward_graph(self, dy):
        plan, inputs = self.saved[0], self.inputs[1:]
        tensors = [t.reshape(plan.squeezed(k, t.array).shape) for k, t in enumerate(inputs)]
        return (None,) + tuple(
            self._operand_grad(plan, tensors, k, dy, self.graph_xp) if self.needs_input_grad[k + 1] else None
            for k in range(len(tensors))
        )

    def _operand_grad(self, plan, arrays, k, dy, xp=None):
        """Operand k's gradient: arrays with ``self.xp``, or Tensors with ``graph_xp`` (recorded, differentiable)."""
        xp = xp or self.xp
        spec = plan.inputs[k]
        others = [s for j, s in enumerate(plan.inputs) if j != k]
        letters = "".join(dict.fromkeys(spec))  # unique, in order of first appearance
        reachable = set(plan.output).union(*others)
        found = "".join(ch for ch in letters if ch in reachable)
        g = xp.einsum(",".join([plan.output] + others) + "->" + found, dy,
                      *(a for j, a in enumerate(arrays) if j != k), optimize=len(arrays) > 2)
        if found != letters:  # letters summed away inside operand k: their gradient is the same along them
            g = g.reshape(tuple(plan.sizes[ch] if ch in found else 1 for ch in letters))
            g = xp.broadcast_to(g, tuple(plan.sizes[ch] for ch in letters))
        if letters != spec:  # a repeated letter: the gradient lives on the diagonal
            ixp = backend.get_array_module(getattr(dy, "array", dy))
            grid = [
                ixp.arange(plan.sizes[ch]).reshape([-1 if i == letters.index(ch) else 1 for i in range(len(letters))])
                for ch in spec
            ]
            dx = _on_grid(xp, g, tuple(plan.sizes[ch] for ch in spec), tuple(grid))
        else:
            dx = g
        return dx.reshape(plan.shapes[k])


def _on_grid(xp, g, shape, grid):
    """zeros(shape) holding ``g`` at the positions ``grid`` (a diagonal); recorded when ``xp`` is ``graph_xp``."""
    if xp is Function.graph_xp:
        return accumulate_at(g, shape, grid)
    dx = xp.zeros(shape, dtype=g.dtype)
    dx[grid] = g
    return dx


def einsum(equation, *operands):
    """Sum of products of ``operands`` over the letters of ``equation`` (``"ij,jk->ik"`` is a matmul).

    Operands may be passed one by one or as one list. ``...`` stands for broadcast dims; without ``->`` the output
    holds the letters that occur once, in alphabetical order (after the ``...`` dims). RuntimeError for an equation
    that does not fit the operands, as PyTorch.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, got {type(x).__name__}")
    dtypes = {x.array.dtype for x in operands}  # the arrays' own dtypes (a Keras Variable names its dtype as a str)
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum(): operands must have the same dtype, got {', '.join(map(str, dtypes))}")
    plan = _Plan(equation, [tuple(x.shape) for x in operands])
    return Einsum.apply(plan, *operands)
