"""``ganglion.insight``: tools that show why training goes wrong and what to change.

- ``model_summary``: layers, output shapes, parameters, FLOPs and activation memory (cost.py holds the FLOPs rule)
- ``Doctor``: watches a training loop (hooks on activations and gradients) and names what goes wrong, with the
  numbers that show it and the remedy; ``ganglion.keras.callbacks.TrainingDoctor`` is the same doctor for ``fit``
- ``init_report``: how activation and gradient variance evolve with depth under several initializations
- plots.py: gradient flow, activation functions and their derivatives, optimizer paths, learning-rate schedules
"""

from .checks import Diagnosis
from .cost import layer_cost
from .doctor import Doctor
from .init_report import InitReport, init_report
from .plots import (
    optimizer_paths, plot_activation_functions, plot_gradient_flow, plot_init_report, plot_lr_schedules,
    plot_optimizer_paths,
)
from .summary import ModelSummary, model_summary

__all__ = [
    "Diagnosis", "Doctor", "InitReport", "ModelSummary", "init_report", "layer_cost", "model_summary",
    "optimizer_paths", "plot_activation_functions", "plot_gradient_flow", "plot_init_report", "plot_lr_schedules",
    "plot_optimizer_paths",
]
