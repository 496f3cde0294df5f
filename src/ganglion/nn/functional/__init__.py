"""``ganglion.nn.functional``: the math of every layer, as functions (PyTorch's ``torch.nn.functional``)."""

from ...ops import pad
from .activations import log_softmax, relu, relu_, sigmoid, softmax, tanh
from .activations import (
    celu, elu, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, hardtanh_, identity, leaky_relu, leaky_relu_,
    logsigmoid, mish, prelu, relu6, selu, silu, softmin, softplus, softshrink, softsign, swish, tanhshrink, threshold,
    threshold_,
)
from .linear import linear
from .losses import cross_entropy, nll_loss
from .losses_margin import cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss
from .losses_probabilistic import binary_cross_entropy, binary_cross_entropy_with_logits, kl_div
from .losses_regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from .dropout import alpha_dropout, dropout, dropout1d, dropout2d
from .normalization import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, rms_norm
from .distance import cosine_similarity, normalize
from .recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .embedding import embedding
from .conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .pooling import (
    avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d, max_unpool1d, max_unpool2d, max_unpool3d,
)
from .pooling_adaptive import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,
    adaptive_max_pool3d,
)
from .sampling import interpolate, pixel_shuffle, pixel_unshuffle
from .attention import multi_head_attention_forward, scaled_dot_product_attention
