"""``keras.callbacks``: hooks into fit/evaluate/predict."""

from .backup_and_restore import BackupAndRestore
from .base import Callback, CallbackList, History
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .monitor import MonitorCallback
from .progbar import ProgbarLogger
from .simple import LambdaCallback, TerminateOnNaN
from .tensorboard import TensorBoard
from .doctor import TrainingDoctor
