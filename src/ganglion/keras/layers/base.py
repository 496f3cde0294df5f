"""``Layer``: the Keras face of an ``nn.Module``. Weights are created lazily by ``build(input_shape)`` from the first
input; ``call(inputs, training=None)`` computes. A Layer is an ``nn.Module``, so its parameters, ``state_dict`` and
``train()``/``eval()`` are the engine's; what it adds is Keras' naming, lazy building, symbolic calls for the
functional API, ``get_config`` and Keras' weight names and layouts (``get_weights``/``set_weights``).

Keras layers run in inference mode unless told otherwise: a new layer is in eval mode, ``fit`` switches the model
to training mode for its steps, and ``call(..., training=True)`` overrides it for one call.

Masks (batch, timesteps) of booleans, False for a padded step, follow Keras 3: a layer makes one in
``compute_mask(inputs, mask)`` (``Embedding(mask_zero=True)``, ``Masking``), a layer whose ``call`` takes ``mask``
receives its input's mask, and a layer with ``supports_masking`` hands on ``compute_mask``'s result (by default its
input's mask); any other layer drops it, with Keras' warning. Keras hangs the mask on the output tensor; a ganglion
Tensor has no room for it, so the models carry it beside the data instead (``_call_with_mask``): Sequential,
functional and nested models propagate masks as Keras does, and a subclassed model passes them explicitly
(``self.lstm(x, mask=self.embedding.compute_mask(ids))``), as Keras' masking guide shows.
"""

import inspect
import warnings

import numpy as np

from ... import backend
from ...nn.module import Module
from ...tensor import Tensor
from .._registry import FromConfig
from ..naming import to_snake_case, unique_name
from ..variables import Variable
from .keras_weight import KerasWeight
from .loss_terms import AddedLosses, Penalty
from .strings import as_text_array, is_text, refuse_text
from .structure import as_tensor, flatten_structure, map_structure, no_mask


class Layer(FromConfig, Module):
    """Base class of Keras layers (and models). Subclass it: create weights in ``build``, compute in ``call``."""

    accepts_strings = False  # True for layers that read text (models hand it on); see _strings.py

    supports_masking = False  # True: the output's mask is compute_mask(inputs, mask); False: masks stop here

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None, batch_size=None,
                 **kwargs):
        super().__init__()
        unknown = set(kwargs) - {"autocast", "input_length", "batch_input_shape"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        d = self.__dict__
        d["training"] = False
        d["name"] = name or unique_name(to_snake_case(type(self).__name__))
        d["built"] = False
        d["_trainable"] = bool(trainable)
        d["_regularizers"] = []  # (keras weight name, regularizer) pairs whose penalties join the training loss
        d["dtype_policy"] = backend.resolve_dtype(dtype) if dtype is not None else None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if kwargs.get("batch_input_shape") is not None:
            shape = tuple(kwargs["batch_input_shape"])
            batch_size, input_shape = shape[0], shape[1:]
        d["_input_shape_arg"] = None if input_shape is None else tuple(input_shape)
        d["_batch_size_arg"] = batch_size
        call_parameters = inspect.signature(self.call).parameters
        d["_call_takes_training"] = "training" in call_parameters
        d["_call_takes_mask"] = "mask" in call_parameters
        if type(self).compute_mask is not Layer.compute_mask:
            d["supports_masking"] = True  # Keras: a layer that computes masks supports them
        d["_inbound_nodes"] = []
        d["_added_losses"] = []

    # ------------------------------------------------------------------------------------------- building
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch dimension first, possibly None)."""
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.__dict__["_build_input_shape"] = input_shape
            self.build(input_shape)
            self.__dict__["built"] = True
            self.train(self.training)  # modules made in build take the layer's mode
            if not self._trainable:
                self.requires_grad_(False)

    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", name=None):
        """Create a weight of Keras ``shape`` and register it as attribute ``name`` (a Parameter, or a buffer when not
        trainable); returns it. Keras 3's order (``add_weight(shape, initializer, ...)``) and Keras 2's
        (``add_weight(name, shape, ...)``) are both accepted. ``initializer`` defaults to "glorot_uniform" ("zeros"
        for integer dtypes). The weight is a ``keras.Variable``: a Parameter, so it trains and saves with the model."""

        if args and isinstance(args[0], str):  # Keras 2: add_weight(name, shape, ...)
            name, args = args[0], args[1:]
        if args:
            if shape is not None or len(args) > 2:
                raise TypeError(f"{self.name}.add_weight: give shape, initializer and the rest by keyword")
            shape = args[0]
            if len(args) == 2:
                initializer = args[1]
        if shape is None:
            shape = ()  # Keras 3: a scalar
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
            raise ValueError(f"{self.name}.add_weight: shape must hold non-negative ints, got {shape}")
        auto = name is None
        name = name or _free_name(self, "variable")
        if name in self.__dict__ or name in self._modules:
            raise ValueError(f"{self.name}.add_weight: the layer already has an attribute {name!r}")
        if initializer is None:  # Keras: glorot_uniform for floats, zeros for ints and bools
            kind = np.dtype(backend.resolve_dtype(dtype) or backend.float32).kind
            initializer = "glorot_uniform" if kind in "fc" else "zeros"
        var = Variable(initializer, shape=shape, dtype=dtype or self.dtype_policy or backend.float32,
                       trainable=trainable, aggregation=aggregation, name=name)
        var.requires_grad = var.requires_grad and self._trainable
        var._path = f"{self.name}/{name}"
        if trainable:
            setattr(self, name, var)
        else:
            self.register_buffer(name, var)
        if regularizer is not None:
            self.add_regularizer(name, regularizer)
        if constraint is not None:
            from ..constraints import get as get_constraint

            self.__dict__.setdefault("_constraints", []).append((name, get_constraint(constraint)))
        if auto:  # ``self.kernel = self.add_weight(...)`` renames it (see __setattr__)
            self.__dict__.setdefault("_auto_weight_names", set()).add(name)
        return var

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True, regularizer=None,
                     constraint=None, name=None):
        """Keras 3's other name for ``add_weight`` (shape and initializer first, both required)."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               autocast=autocast, regularizer=regularizer, constraint=constraint, name=name)

    def __setattr__(self, name, value):
        auto = self.__dict__.get("_auto_weight_names")
        if auto and isinstance(value, Tensor):
            old = next((k for k in auto if self.__dict__.get(k) is value), None)
            if old is not None and old != name:
                self._rename_weight(old, name)
                return
        super().__setattr__(name, value)

    def _rename_weight(self, old, new):
        """Give a weight made by add_weight without a name the attribute name it is assigned to."""
        d = self.__dict__
        d["_auto_weight_names"].discard(old)
        value = d[old]
        trainable = old in self._parameters
        self._forget(old)
        object.__delattr__(self, old)
        if trainable:
            Module.__setattr__(self, new, value)
        else:
            self.register_buffer(new, value)
        if isinstance(value, Variable):
            value.name, value._path = new, f"{self.name}/{new}"
        d["_regularizers"] = [(new if n == old else n, r) for n, r in self._regularizers]
        if "_constraints" in d:
            d["_constraints"] = [(new if n == old else n, c) for n, c in d["_constraints"]]

    def add_regularizer(self, weight_name, regularizer):
        from ..regularizers import get as get_regularizer

        self._regularizers.append((weight_name, get_regularizer(regularizer)))

    # ------------------------------------------------------------------------------------------- calling
    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        """Symbolic inputs (``keras.Input``) record a node of the functional graph; real data runs ``forward``
        (through the module's hooks, if any are registered)."""
        if type(inputs) is not Tensor and _is_symbolic(inputs):
            return _input_layer().symbolic_call(self, inputs, args, kwargs)
        if self._has_hooks:
            return Module.__call__(self, inputs, *args, **kwargs)
        return self.forward(inputs, *args, **kwargs)

    def forward(self, inputs, *args, **kwargs):
        """The eager call: NumPy inputs become Tensors, the layer builds itself from the first input's shape, and
        ``call`` runs with ``training`` defaulting to the layer's mode."""
        inputs = self._prepare_call(inputs, kwargs)
        return self.call(inputs, *args, **kwargs)

    def _prepare_call(self, inputs, kwargs):
        """What every eager call does before ``call``: returns ``inputs`` as Tensors; builds the layer; sets (or
        drops) ``training`` in ``kwargs``; forgets the previous call's ``add_loss`` values."""
        if type(inputs) is not Tensor:
            inputs = self._as_inputs(inputs)
        if not self.built:
            self._maybe_build(_shapes(inputs))
        d = self.__dict__
        if d["_call_takes_training"]:
            if kwargs.get("training") is None:
                kwargs["training"] = d["training"]
        elif "training" in kwargs:
            del kwargs["training"]  # Keras drops it for layers whose call takes no training argument
        if d["_added_losses"]:
            d["_added_losses"] = []  # losses from add_loss belong to the latest call
        return inputs

    def _as_inputs(self, inputs):
        """NumPy data as Tensors; text (see _strings.py) kept as an array of strings when this layer takes strings,
        refused by name otherwise."""
        if is_text(inputs):
            if not self.accepts_strings:
                raise refuse_text(self, inputs)
            return as_text_array(inputs)

        def convert(x):
            if isinstance(x, np.ndarray) and is_text(x):
                if not self.accepts_strings:
                    raise refuse_text(self, x)
                return x
            return as_tensor(x)

        return map_structure(convert, inputs)

    # ------------------------------------------------------------------------------------------------ masks
    def compute_mask(self, inputs, mask=None):
        """The mask of the output for ``inputs`` whose mask is ``mask`` (Keras: the input's mask, unchanged)."""
        return mask

    def _call_with_mask(self, inputs, input_mask, *args, **kwargs):
        """Call the layer on ``inputs`` whose mask is ``input_mask``, as Keras' ``__call__`` does; returns (outputs,
        the outputs' mask).

        ``call`` receives ``mask=`` when it takes one (an explicit ``mask=`` in ``kwargs`` wins); the outputs' mask
        is ``compute_mask(inputs, mask)`` for a layer with ``supports_masking``, else None (with Keras' warning when
        a mask is lost). A mask may be a structure matching list inputs; all-None is no mask."""
        mask = kwargs.get("mask")
        if mask is None:
            mask = None if no_mask(input_mask) else input_mask
            if mask is not None and self._call_takes_mask:
                kwargs["mask"] = mask
        outputs = self(inputs, *args, **kwargs)
        return outputs, self._output_mask(inputs, mask)

    def _output_mask(self, inputs, mask):
        if not self.supports_masking:
            if mask is not None:
                warnings.warn(f"Layer {self.name!r} (of type {type(self).__name__}) was passed an input with a mask "
                              "attached to it. However, this layer does not support masking and will therefore "
                              "destroy the mask information. Downstream layers will not see the mask.",
                              stacklevel=3)
            return None
        if type(inputs) is not Tensor:
            inputs = map_structure(as_tensor, inputs)
        out = self.compute_mask(inputs, mask)
        return None if no_mask(out) else out

    def add_loss(self, loss):
        """Add a scalar Tensor (computed in ``call``) to this layer's losses; ``fit`` adds it to the training loss.
        Losses added during a call replace those of the layer's previous call, as in Keras."""
        if not isinstance(loss, Tensor):
            loss = as_tensor(loss)
        self.__dict__["_added_losses"] = self._added_losses + [loss]

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` (None for unknown dims), found by running the layer on a small batch."""
        from .input_layer import infer_output_shape

        return infer_output_shape(self, input_shape)

    # ---------------------------------------------------------------------------------------------- weights
    def keras_weights(self):
        """This layer's own weights as Keras sees them (name, layout); subclasses with other layouts override."""
        own = [_as_weight(n, p) for n, p in self._parameters.items() if p is not None]
        own += [_as_weight(n, b) for n, b in self._buffers.items()
                if b is not None and (isinstance(b, Variable) or b.dtype.kind == "f")]
        return own

    def _all_keras_weights(self):
        """This layer's weights, then each sublayer's in order, depth first (Keras' order); shared ones once."""
        out, seen = [], set()
        stack = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            own = layer.keras_weights()
            for w in own:
                if id(w.parameter) not in seen:
                    if w._path is None:
                        w._path = f"{layer.name}/{w.name}"
                    out.append(w)
            seen.update(id(w.parameter) for w in own)
            stack.extend(reversed([m for m in layer._modules.values() if isinstance(m, Layer)]))
        return out

    @property
    def weights(self):
        return self._all_keras_weights()

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.parameter.requires_grad] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not (self.trainable and w.parameter.requires_grad)]

    @property
    def trainable_variables(self):
        return self.trainable_weights

    def get_weights(self):
        """The weights as NumPy arrays in Keras' order and layouts."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"{self.name}: set_weights expects {len(own)} arrays ({[w.name for w in own]}), got {len(weights)}"
            )
        for w, value in zip(own, weights):
            w.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name} is not built yet: call it on data or give it an input shape first")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze (False) or unfreeze a layer and everything inside it, as for fine-tuning."""
        self.__dict__["_trainable"] = bool(value)
        for m in self.modules():
            if isinstance(m, Layer):
                m.__dict__["_trainable"] = bool(value)
            for p in m._parameters.values():
                if p is not None:
                    p.requires_grad = bool(value)

    @property
    def losses(self):
        """Regularization penalties and ``add_loss`` values of this layer and the layers inside it, as scalar
        Tensors connected to the graph."""
        return [value for value in (term() for term in self._loss_terms()) if value is not None]

    def _loss_terms(self):
        """Zero-argument callables, one per loss term, found once (``fit`` calls them at every step)."""
        terms = []
        for m in self.modules():
            for name, reg in getattr(m, "_regularizers", ()):
                terms.append(Penalty(m, name, reg))
            if isinstance(m, Layer):
                terms.append(AddedLosses(m))
        return terms

    def _penalty_target(self, name):
        """The engine parameter behind Keras weight ``name`` (penalties are sums, so the layout does not matter)."""
        return getattr(self, name)

    # ---------------------------------------------------------------------------------------------- config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.dtype_policy is not None:
            config["dtype"] = str(self.dtype_policy)
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config


    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _as_weight(name, tensor):
    """A layer's own parameter or buffer as a Keras weight: a Variable is one already."""
    return tensor if isinstance(tensor, Variable) else KerasWeight(name, tensor)


def _free_name(layer, base):
    """``base``, or ``base_1``, ``base_2``... whichever the layer does not use yet."""
    name, i = base, 0
    while name in layer.__dict__ or name in layer._parameters or name in layer._buffers:
        i += 1
        name = f"{base}_{i}"
    return name


_INPUT_LAYER = []


def _input_layer():
    """The input_layer module (it imports this one, so it is looked up on first use)."""
    if not _INPUT_LAYER:
        from . import input_layer

        _INPUT_LAYER.append(input_layer)
    return _INPUT_LAYER[0]


def _is_symbolic(x):
    kt = _input_layer().KerasTensor
    if isinstance(x, (list, tuple, dict)):
        return any(isinstance(t, kt) for t in flatten_structure(x))
    return isinstance(x, kt)


def _shapes(x):
    """The nested structure of ``x`` with each tensor replaced by its shape."""
    return map_structure(lambda t: tuple(t.shape), x)
