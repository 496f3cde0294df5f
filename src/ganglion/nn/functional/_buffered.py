"""``BufferedFunction``: a Function that keeps work arrays (a ``memory.Workspace``) for its backward.

The node owns the workspace from its forward until the graph is spent (``free``, called by the engine after the
node's backward); without a graph to record, nothing will call backward or free, so the arrays go back at once.
"""

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled


class BufferedFunction(Function):
    """Base of the fused ops whose forward keeps large work arrays for backward (convolution, recurrent layers)."""

    def keep_for_backward(self, workspace, outputs, *saved):
        """Save ``saved`` for backward and own ``workspace`` until ``free``; release it now when no graph is recorded.

        ``outputs`` (the arrays forward returns) are first checked not to share memory with the workspace.
        """
        workspace.check_not_holding(type(self).__name__, outputs)
        if is_grad_enabled() and any(self.needs_input_grad):
            self.__dict__["workspace"] = workspace
            self.save(*saved)
        else:
            workspace.release()

    def free(self):
        workspace = self.__dict__.pop("workspace", None)
        if workspace is not None:
            workspace.release()
        super().free()
