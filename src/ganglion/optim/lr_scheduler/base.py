"""``LRScheduler``: the base of every learning-rate schedule, with PyTorch's protocol.

A scheduler changes ``group['lr']`` of its optimizer's param groups. It is built after the optimizer (its
construction already sets the lr of step 0) and stepped after ``optimizer.step()``, usually once per epoch::

    for epoch in range(epochs):
        train_one_epoch(model, optimizer)   # optimizer.step() inside
        scheduler.step()

Most schedules are *chainable*, as in PyTorch: each step multiplies the lr the group has now by a factor, so two
schedules on one optimizer (``ChainedScheduler``) compose. ``step(epoch)`` (deprecated in PyTorch too) jumps to an
epoch with the closed form instead.
"""

import types
import warnings

from ..optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. Please use "
    "`scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from None, the closed "
    "form is used instead of the new chainable form, where available."
)


class LRScheduler:
    """Base class. A subclass defines ``get_lr()`` (the lrs of epoch ``self.last_epoch``, usually from the groups'
    current lrs) and may define ``_get_closed_form_lr()`` (the same from ``base_lrs`` alone).

    Attributes: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch`` (steps taken; 0 after construction).
    """

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, group in enumerate(optimizer.param_groups) if "initial_lr" not in group]
            if missing:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups{missing} when resuming a scheduler with "
                    f"last_epoch={last_epoch}: load the optimizer's state_dict first, or use last_epoch=-1 for a "
                    f"fresh run"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Set the lrs of epoch 0 (``last_epoch`` goes from -1 to 0)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    # ------------------------------------------------------------------------------------------------- stepping
    def get_last_lr(self):
        """The lrs this scheduler set last, one per param group."""
        return self._last_lr

    def get_lr(self):
        """The lrs for epoch ``last_epoch``; called by ``step()`` (use ``get_last_lr()`` to read them)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``) and write the new lrs into the optimizer's param groups."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", True):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in the opposite order: "
                "`optimizer.step()` before `lr_scheduler.step()`, or the first value of the learning rate schedule "
                "is skipped.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(values)

    def _set_lrs(self, values):
        groups = self.optimizer.param_groups
        values = list(values)
        if len(values) != len(groups):
            raise ValueError(f"{type(self).__name__} computed {len(values)} learning rates for {len(groups)} param "
                             f"groups (a param group added after the scheduler was built?)")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def _warn_if_outside_step(self):
        if not getattr(self, "_get_lr_called_within_step", False):
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=3)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def _scaled_lrs(self, factor):
        """Each group's current lr times ``factor``: the step of a chainable schedule."""
        return [lr * factor for lr in self._current_lrs()]

    # ----------------------------------------------------------------------------------------------- state_dict
    def state_dict(self):
        """Everything but the optimizer (PyTorch's layout: the scheduler's attributes by name)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` saved (this scheduler's or PyTorch's)."""
        self.__dict__.update(state_dict)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={getattr(self, '_last_lr', None)})"


def check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer (a scheduler needs a ganglion.optim "
                        f"optimizer)")


def per_group(name, optimizer, value):
    """``value`` for every param group: a list or tuple must have one entry per group, anything else is repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has {len(value)} "
                             f"values, param_groups has {len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


def functions_state(functions):
    """What ``state_dict`` keeps of user functions: nothing for plain functions, the attributes of callable objects."""
    return [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in functions]


def load_functions_state(functions, saved):
    for fn, values in zip(functions, saved):
        if values is not None:
            fn.__dict__.update(values)
