"""ganglion: a readable deep-learning framework with its own autograd engine, a PyTorch-style API and a Keras-style
API over one engine (NumPy on the CPU, CuPy on the GPU)."""

__version__ = "0.1.0"

from . import backend
from .backend import (
    DTYPES as _DTYPES, Device as device, Generator, bool_, default_generator, float16, float32, float64,
    get_default_dtype, int8, int16, int32, int64, manual_seed, set_default_dtype, uint8,
)
from .size import Size
from .tensor import Tensor
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd, cuda, memory, ops
from .kernels import get_num_threads, set_num_threads

# The two links from the lower modules up to the higher ones, made here, once, so that imports flow one way:
# autograd makes and reads Tensors without importing tensor.py (which builds on it), and Tensor's operators are the
# functions of ops (which build on tensor.py).
autograd.register_tensor_class(Tensor)
ops.bind_tensor_methods(Tensor)
from .factories import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from .ops import (
    all, any, argsort, cumprod, cumsum, einsum, flip, masked_fill, narrow, norm, repeat_interleave, roll, sort, t,
    topk, tril, triu, unique,
)
from .ops import ceil, expm1, fix, floor, frac, relu_, round, trunc
from . import linalg
from .ops import (
    abs, add, allclose, amax, amin, argmax, argmin, bmm, broadcast_to, cat, chunk, clamp, clip, clone, concat,
    concatenate, cos, div, dot, eq, equal, exp, expand, flatten, gather, ge, gt, index_select, isfinite, isinf, isnan,
    le, log, log1p, log_softmax, logical_and, logical_not, logical_or, logical_xor, logsumexp, lt, matmul, max, maximum,
    mean, min, minimum, mm, mul, ne, neg, pad, permute, pow, prod, relu, repeat, reshape, scatter_add, sigmoid, sign, sin,
    softmax, split, sqrt, squeeze, stack, std, sub, sum, swapaxes, tanh, tile, transpose, unsqueeze, var, view, where,
)

# PyTorch's dtype aliases
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
bool = bool_
multiply, subtract, divide, negative = mul, sub, div, neg

from . import data, nn, optim  # noqa: E402  (they build on everything above)
from . import io  # noqa: E402
from .io import load, save  # noqa: E402
from . import accelerator, utils  # noqa: E402  (torch.accelerator and torch.utils.data's import paths)
