"""Schedules given by a user function of the epoch: LambdaLR (a factor of the initial lr) and MultiplicativeLR (a
factor of the current lr)."""

from .base import LRScheduler, functions_state, load_functions_state


def _lambdas(name, optimizer, lr_lambda):
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"{name}: expected {len(optimizer.param_groups)} lr_lambdas (one per param group), but "
                             f"got {len(lr_lambda)}")
        lambdas = list(lr_lambda)
    else:
        lambdas = [lr_lambda] * len(optimizer.param_groups)
    for fn in lambdas:
        if not callable(fn):
            raise TypeError(f"{name}: lr_lambda should be a function, but got {type(fn).__name__}")
    return lambdas


class _FunctionSchedule(LRScheduler):
    """A schedule of user functions, one per param group (``lr_lambda``: one function or a list). Only the attributes
    of callable objects are saved, not the functions themselves."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(type(self).__name__, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = functions_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        load_functions_state(self.lr_lambdas, saved)


class LambdaLR(_FunctionSchedule):
    """lr = base_lr * lr_lambda(epoch); ``lr_lambda`` is one function or one per param group."""

    def get_lr(self):
        self._warn_if_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_FunctionSchedule):
    """lr = lr * lr_lambda(epoch) at every step after the first (so lr_t = base_lr * prod_{s<=t} lr_lambda(s))."""

    def get_lr(self):
        self._warn_if_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._current_lrs())]
