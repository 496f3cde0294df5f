"""Keras' per-weight arguments, in one place: for each option prefix p (``kernel``, ``bias``, ``recurrent``,
``depthwise``, ``pointwise``, ``embeddings``, ``gamma``, ``beta``, ``alpha``), ``p_initializer``, ``p_regularizer``
and ``p_constraint``. ``WeightOptions`` resolves them (``keras.initializers.get`` / ``regularizers.get`` /
``constraints.get``), applies them when the weight is created (the initializer draws in Keras' shape and layout;
the regularizer's penalty joins ``layer.losses``; the constraint runs after each optimizer step on the weight in
Keras' layout) and writes them into ``get_config``. ``WeightTable`` adds the table of (Keras name, engine parameter,
layout) that ``keras_weights``, penalties and constraints read; ``ActivityRegularization`` the penalty on outputs.
"""

from .. import constraints, initializers, regularizers
from ._adapters import IDENTITY, who
from .keras_weight import KerasWeight

OPTION_KINDS = (("initializer", initializers), ("regularizer", regularizers), ("constraint", constraints))


class LayoutConstraint:
    """A Keras constraint applied to an engine parameter: it sees (and returns) the weight in Keras' layout."""

    def __init__(self, constraint, layout):
        self.constraint, self.layout = constraint, layout

    def __call__(self, weight):
        return self.layout.from_keras(self.constraint(self.layout.to_keras(weight)))


class WeightOptions:
    """Mixed into layers with weights: ``p_initializer``, ``p_regularizer``, ``p_constraint`` for each prefix p
    given to ``_init_weight_options``, applied by ``_create_weight`` / ``_attach_weight_options`` and written by
    ``_weight_options_config``."""

    def _init_weight_options(self, **options):
        """``options``: prefix=(initializer, regularizer, constraint), in Keras' config order; each is resolved
        into attributes ``prefix_initializer`` etc. (a None regularizer or constraint stays None)."""
        for prefix, values in options.items():
            for (kind, module), value in zip(OPTION_KINDS, values):
                setattr(self, f"{prefix}_{kind}", module.get(value))
        self.__dict__["_option_prefixes"] = tuple(options)

    def _weight_options_config(self):
        """Keras' config entries: every prefix's initializer, then regularizer, then constraint (Keras' order)."""
        return {f"{prefix}_{kind}": module.serialize(getattr(self, f"{prefix}_{kind}"))
                for kind, module in OPTION_KINDS for prefix in self._option_prefixes}

    def _attach_weight_options(self, prefix, name, layout=IDENTITY, constrained=None):
        """Once Keras weight ``name`` exists: ``prefix_regularizer`` penalizes it in ``layer.losses``, and
        ``prefix_constraint`` runs after each optimizer step on the weights named in ``constrained`` (default:
        ``name``), seen through ``layout``."""
        regularizer = getattr(self, f"{prefix}_regularizer")
        if regularizer is not None:
            self._regularizers.append((name, regularizer))
        constraint = getattr(self, f"{prefix}_constraint")
        if constraint is not None:
            self.__dict__.setdefault("_constraints", []).extend(
                (target, LayoutConstraint(constraint, layout)) for target in (constrained or (name,)))

    def _create_weight(self, prefix, name, param, keras_shape, layout=IDENTITY):
        """Initialize engine ``param`` (Keras weight ``name``) from ``prefix_initializer`` drawn in Keras'
        ``keras_shape`` and mapped by ``layout``; then attach the prefix's regularizer and constraint."""
        getattr(self, f"{prefix}_initializer").fill(param, keras_shape, layout=layout)
        self._attach_weight_options(prefix, name, layout)


class ActivityRegularization:
    """Mixed into adapters: ``activity_regularizer(output)`` of the latest call joins ``layer.losses`` (Keras 3
    adds the penalty of every output, without dividing by the batch size)."""

    def _init_activity(self, activity_regularizer):
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if self.activity_regularizer is not None:
            self._regularizers.append(("__activity__", self.activity_regularizer))

    def _record_activity(self, y):
        if self.activity_regularizer is not None:
            self.__dict__["_last_output"] = y
        return y

    def _activity_target(self):
        """The latest output (a zero before the first call, so the penalty is 0)."""
        if "_last_output" not in self.__dict__:
            from ...factories import zeros

            return zeros(1)
        return self.__dict__["_last_output"]


class WeightTable(WeightOptions, ActivityRegularization):
    """Mixed into adapters over engine modules: ``_weight_table()`` lists (Keras name, engine parameter, layout)
    once, and ``keras_weights``, the Keras-named properties, regularizer targets and constraints all read it."""

    def _weight_table(self):
        """(Keras name, engine parameter, layout) per weight, in Keras' order; an entry whose parameter is None
        (a bias with ``use_bias=False``) is not a weight."""
        return []

    def _present_weights(self):
        return [entry for entry in self._weight_table() if entry[1] is not None]

    def keras_weights(self):
        if not self.built:
            return []
        return [KerasWeight(name, param) if layout is IDENTITY else
                KerasWeight(name, param, layout.to_keras, layout.from_keras)
                for name, param, layout in self._present_weights()]

    def _keras_weight(self, name):
        return next((w for w in self.keras_weights() if w.name == name), None)

    def _penalty_target(self, name):
        if name == "__activity__":
            return self._activity_target()
        for weight_name, param, _ in self._present_weights():
            if weight_name == name:
                return param
        raise ValueError(f"{who(self)}: no weight named {name!r}")

    def _create_weights(self, keras_shapes, prefixes=None):
        """After build made the engine module: initialize each weight of the table named in ``keras_shapes`` (name
        -> Keras shape) and attach its options. A weight's option prefix is its name unless ``prefixes`` maps it
        (DepthwiseConv's ``kernel`` takes the ``depthwise_*`` arguments)."""
        prefixes = prefixes or {}
        for name, param, layout in self._present_weights():
            if name in keras_shapes:
                self._create_weight(prefixes.get(name, name), name, param, keras_shapes[name], layout)


def keras_weight(name):
    """A read-only property giving the layer's Keras weight ``name`` (None before the layer is built)."""
    return property(lambda layer: layer._keras_weight(name), doc=f"Keras' ``{name}`` weight (None before build).")
