"""Model evaluation shared by both faces: scores of predictions (scikit-learn's names and values), model selection
by cross-validation and learning curves (``selection``), and plots (``plots``, needs matplotlib).

NumPy only, outside the autograd graph: inputs may be ganglion Tensors, NumPy arrays or lists.
"""

from .classification import (UndefinedMetricWarning, accuracy_score, confusion_matrix, misclassification_rate,
                             precision_recall_fscore_support, top_k_accuracy_score)
from .curves import auc, roc_curve
from .evaluation import EpochErrors, Evaluation, epoch_errors, evaluate, predict_classes
from .probabilistic import log_loss
from .ranking import roc_auc_score
from .regression import mean_absolute_error, mean_squared_error
from .report import classification_report
from .selection import KFold, cross_val_score, diagnose_fit, kfold_indices, learning_curve, select_model
from .plots import plot_confusion_matrix, plot_history, plot_learning_curve  # matplotlib is imported on first use

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "auc", "classification_report", "confusion_matrix", "log_loss",
    "mean_absolute_error", "mean_squared_error", "misclassification_rate", "precision_recall_fscore_support",
    "roc_auc_score", "roc_curve", "top_k_accuracy_score",
    "EpochErrors", "Evaluation", "epoch_errors", "evaluate", "predict_classes",
    "KFold", "cross_val_score", "diagnose_fit", "kfold_indices", "learning_curve", "select_model",
    "plot_confusion_matrix", "plot_history", "plot_learning_curve",
]
