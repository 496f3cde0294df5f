"""The learning-rate schedules under test: one row per schedule and notable option.

A row is (id, optimizer name, optimizer kwargs, make). ``make(S, opt)`` builds the schedule from the module ``S``
(ganglion's ``lr_scheduler`` or PyTorch's), so the same line builds both. The notes' schedules that PyTorch lacks
(inverse-time and piecewise-constant decay) have a fifth field, ``reference(S, opt)``: the same schedule written as
PyTorch's LambdaLR. The optimizers get two param groups, the second with 0.4 times the first's lr.
"""

import math
from bisect import bisect_left

SGD = ("sgd", dict(lr=0.05, momentum=0.9))
ADAM = ("adam", dict(lr=0.01))

PIECES = ([30, 80, 150], [0.05, 0.02, 0.01, 0.002])


def _pieces_lambda(base_lr):
    return lambda epoch: PIECES[1][bisect_left(PIECES[0], epoch)] / base_lr


ROWS = [
    ("step", *SGD, lambda S, o: S.StepLR(o, step_size=30, gamma=0.5)),
    ("multistep", *SGD, lambda S, o: S.MultiStepLR(o, milestones=[20, 50, 50, 120], gamma=0.5)),
    ("constant", *SGD, lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=40)),
    ("linear-warmup", *SGD, lambda S, o: S.LinearLR(o, start_factor=0.1, total_iters=50)),
    ("linear-decay", *SGD, lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=150)),
    ("exponential", *SGD, lambda S, o: S.ExponentialLR(o, gamma=0.99)),
    ("lambda", *SGD, lambda S, o: S.LambdaLR(o, lambda e: 1 / (1 + 0.05 * e))),
    ("lambda-per-group", *SGD, lambda S, o: S.LambdaLR(o, [lambda e: 0.98**e, lambda e: 1 / (1 + e) ** 0.5])),
    ("multiplicative", *SGD, lambda S, o: S.MultiplicativeLR(o, lambda e: 0.995)),
    ("cosine", *SGD, lambda S, o: S.CosineAnnealingLR(o, T_max=50, eta_min=0.001)),
    ("warm-restarts", *SGD, lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=20, T_mult=2, eta_min=1e-4)),
    ("polynomial", *SGD, lambda S, o: S.PolynomialLR(o, total_iters=150, power=2.0)),
    ("cyclic-triangular", *SGD, lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15,
                                                         step_size_down=25)),
    ("cyclic-triangular2", *SGD, lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15,
                                                          mode="triangular2")),
    ("cyclic-exp_range", *SGD, lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=15,
                                                        mode="exp_range", gamma=0.99)),
    ("cyclic-adam-beta1", *ADAM, lambda S, o: S.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=20,
                                                          base_momentum=0.8, max_momentum=0.95)),
    ("onecycle", *SGD, lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=200)),
    ("onecycle-linear-three_phase", *SGD, lambda S, o: S.OneCycleLR(o, max_lr=[0.1, 0.05], epochs=4,
                                                                     steps_per_epoch=50, anneal_strategy="linear",
                                                                     three_phase=True, final_div_factor=10.0)),
    ("onecycle-adam", *ADAM, lambda S, o: S.OneCycleLR(o, max_lr=0.02, total_steps=200, pct_start=0.2)),
    ("sequential", *SGD, lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                                          S.CosineAnnealingLR(o, T_max=150)], milestones=[10])),
    ("sequential-three", *SGD, lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.1, total_iters=10),
                                                                S.ExponentialLR(o, gamma=0.98), S.StepLR(o, 20)],
                                                            milestones=[10, 80])),
    ("chained", *SGD, lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=20),
                                                        S.ExponentialLR(o, gamma=0.99)])),
    ("inverse-time", *SGD, lambda S, o: S.InverseTimeLR(o, decay_rate=0.05),
     lambda S, o: S.LambdaLR(o, lambda e: 1 / (1 + 0.05 * e))),
    ("inverse-time-staircase", *SGD, lambda S, o: S.InverseTimeLR(o, decay_rate=0.5, decay_steps=25, staircase=True),
     lambda S, o: S.LambdaLR(o, lambda e: 1 / (1 + 0.5 * math.floor(e / 25)))),
    ("piecewise-constant", *SGD, lambda S, o: S.PiecewiseConstantLR(o, *PIECES),
     lambda S, o: S.LambdaLR(o, [_pieces_lambda(g["lr"]) for g in o.param_groups])),
]
IDS = [row[0] for row in ROWS]


def reference(row):
    """The maker for PyTorch's side of ``row``."""
    return row[4] if len(row) > 4 else row[3]
