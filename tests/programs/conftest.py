"""The programs' reference runs use Keras on its torch backend; Keras reads KERAS_BACKEND once, when first imported,
so it is set here, before any test in this folder can import keras."""

from programs_harness import use_keras_torch_backend

use_keras_torch_backend()
