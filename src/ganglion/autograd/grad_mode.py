"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``.

The mode is per thread, as in PyTorch: a ``no_grad()`` block in one thread (a data-loading worker, an evaluation
thread) never turns recording off in another, and every new thread starts with recording on.
"""

import functools
import threading


class _GradState(threading.local):
    """The calling thread's grad mode (``enabled``: a class default of True that each thread may override)."""

    enabled = True


state = _GradState()


def is_grad_enabled():
    """True when new operations record the graph for backward."""
    return state.enabled


class _GradModeContext:
    """A context manager that is also a decorator; subclasses say which mode they set."""

    mode = True

    def __new__(cls, func=None, *args, **kwargs):
        # `@no_grad` without parentheses hands the function straight to the class, as PyTorch allows
        self = super().__new__(cls)
        return self(func) if callable(func) else self

    def __enter__(self):
        self._previous = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Run without recording the graph (evaluation, weight updates).

    Usable as ``with no_grad():``, ``@no_grad()`` or ``@no_grad``.
    """

    mode = False


class enable_grad(_GradModeContext):
    """Record the graph again inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off: ``set_grad_enabled(False)`` as a call, a context manager or a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = state.enabled
        state.enabled = self.mode  # as a plain call it takes effect at once, like PyTorch

    def __enter__(self):
        pass

    def __call__(self, func):
        state.enabled = self._previous

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = state.enabled
            state.enabled = self.mode
            try:
                return func(*args, **kwargs)
            finally:
                state.enabled = previous

        return wrapper
