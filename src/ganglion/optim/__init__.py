"""``ganglion.optim``: optimizers with PyTorch's names, arguments and update rules, and ``lr_scheduler``."""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .lion import Lion
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD
from . import lr_scheduler  # noqa: E402  (schedules need the optimizers above)
