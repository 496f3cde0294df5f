"""``keras.callbacks``: hooks into fit/evaluate/predict."""

from .base import Callback, CallbackList, History
from .progbar import ProgbarLogger
