"""What ``layer.losses`` sums, one callable per term (``fit`` finds them once and calls them at every step): a
regularizer's penalty on a weight or on the latest output, and the values ``add_loss`` received."""


class Penalty:
    """``reg(weight)`` for one regularized weight of a layer (nothing before the layer is built, nothing while the
    weight is frozen: Keras 3 regularizes trainable weights only). The weight is looked up once; an activity penalty
    (name ``__activity__``) reads the layer's latest output every time."""

    __slots__ = ("layer", "name", "reg", "target")

    def __init__(self, layer, name, reg):
        self.layer, self.name, self.reg, self.target = layer, name, reg, None

    def __call__(self):
        target = self.target
        if target is None:
            if not self.layer.built:
                return None
            target = self.layer._penalty_target(self.name)
            if self.name != "__activity__":
                self.target = target
        if self.name != "__activity__" and not getattr(target, "requires_grad", True):
            return None
        return self.reg(target)


class AddedLosses:
    """The sum of what ``layer.add_loss`` received during the layer's latest call (None when nothing)."""

    __slots__ = ("layer",)

    def __init__(self, layer):
        self.layer = layer

    def __call__(self):
        added = self.layer.__dict__["_added_losses"]
        if not added:
            return None
        total = added[0]
        for value in added[1:]:
            total = total + value
        return total
