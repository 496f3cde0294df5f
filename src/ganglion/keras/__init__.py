"""``ganglion.keras``: the Keras-style front end over ganglion's engine. Layers adapt ``nn`` modules; losses,
optimizers and initializers wrap ``nn.functional``, ``optim`` and ``nn.init``; ``fit`` is the engine's training
loop written once. Change ``keras``/``tensorflow.keras`` to ``ganglion.keras`` in a tutorial and it runs."""

from . import activations, callbacks, constraints, initializers, layers, losses, metrics, models, optimizers
from . import preprocessing, random, regularizers, saving, variables
from . import datasets, utils
from . import ops
from . import applications
from .layers import Input, Layer
from .models import Model, Sequential, load_model
from .naming import reset_names as _reset_names
from .variables import Variable


class backend:  # noqa: N801 - Keras' module name
    """The few ``keras.backend`` functions tutorials call."""

    @staticmethod
    def clear_session():
        _reset_names()
