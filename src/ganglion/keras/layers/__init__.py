"""``keras.layers``: Keras' layers as adapters over the engine's ``nn`` modules."""

from .._registry import register_builtin_layers
from .base import Layer
from .core import Activation, Dense
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .attention import MultiHeadAttention
from .input_layer import Input, InputLayer, KerasTensor
from .conv_transpose import Conv1DTranspose, Conv2DTranspose, Convolution1DTranspose, Convolution2DTranspose
from .convolutional import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from .depthwise_conv import (
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D,
)
from .embedding import Embedding
from .lambda_layer import Lambda
from .masking import Masking
from .merging import (
    Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average, concatenate, maximum, minimum,
    multiply, subtract,
)
from .pooling import (
    AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D,
)
from .regularization import Dropout, SpatialDropout1D, SpatialDropout2D
from .reshaping import (
    Flatten, Permute, RepeatVector, Reshape, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D,
)
from .normalization import BatchNormalization, GroupNormalization, LayerNormalization
from .recurrent import GRU, LSTM, SimpleRNN
from .bidirectional import Bidirectional
from .time_distributed import TimeDistributed
from .preprocessing import Normalization, Rescaling
from .resizing import Resizing
from .text_vectorization import TextVectorization
from .augmentation import RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom

__all__ = ["Layer", "Dense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Input", "InputLayer", "KerasTensor",
    # convolution, pooling, reshaping, regularization, merging, embedding, lambda
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D", "Conv1DTranspose",
    "Conv2DTranspose", "Convolution1DTranspose", "Convolution2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPool1D", "MaxPool2D", "AveragePooling1D", "AveragePooling2D", "AvgPool1D",
    "AvgPool2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "Flatten", "Reshape", "Permute", "RepeatVector", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D",
    "UpSampling2D", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "Embedding", "Lambda", "Masking",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "add", "subtract", "multiply",
    "average", "maximum", "minimum", "concatenate",
    # normalization, recurrent, preprocessing and augmentation
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
    "TimeDistributed", "Resizing", "TextVectorization",
    "Rescaling", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
    # attention
    "MultiHeadAttention",
]

# the classes a saved config may name (serialization finds them in the registry, below keras.layers)
register_builtin_layers({name: globals()[name] for name in __all__ if isinstance(globals().get(name), type)})
