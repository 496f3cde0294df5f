"""``ganglion.nn``: modules (layers with state) over ``nn.functional`` (the math), with PyTorch's names."""

from . import functional, init
from .module import Module, StateDictError
from .modules import CrossEntropyLoss, Identity, Linear, LogSoftmax, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .parameter import Parameter
from .modules import (
    CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, PReLU, ReLU6,
    SELU, SiLU, Softmax2d, Softmin, Softplus, Softshrink, Softsign, Swish, Tanhshrink, Threshold,
)
from .modules import (
    AlphaDropout, BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, Dropout, Dropout1d, Dropout2d, HingeEmbeddingLoss,
    HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, SmoothL1Loss,
)
from .modules import Flatten, ModuleDict, ModuleList, Unflatten
from .hooks import RemovableHandle
from . import utils
from .modules import (
    BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm,
    LocalResponseNorm, RMSNorm,
)
from .modules import SyncBatchNorm
from . import parallel
from .modules import GRU, LSTM, RNN, Embedding, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .modules import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .modules import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
    AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d,
)
from .modules import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .modules import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
    LazyConvTranspose2d, LazyConvTranspose3d, LazyLinear, UninitializedBuffer, UninitializedParameter,
)
from .modules import (
    MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)
