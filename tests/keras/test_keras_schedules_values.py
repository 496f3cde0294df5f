"""Learning-rate schedules: values at chosen steps against numbers worked out by hand from Keras' formulas, config
round trips (``deserialize``, optimizer get_config/from_config, model.save), and an optimizer reading its schedule
at every step of ``fit``."""

import math

import numpy as np
import pytest

import ganglion.keras as keras
from ganglion.keras import optimizers
from ganglion.keras.optimizers import schedules

S = schedules
PI = math.pi


def _sgdr(step, lr0, first, t_mul, m_mul, alpha):
    """SGDR by walking the periods: lengths first, first t, first t^2, ...; restart i scales by m_mul^i."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start, length, i = start + length, length * t_mul, i + 1
    frac = (step - start) / length
    return lr0 * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(PI * frac)) + alpha)


# (id, schedule, {step: expected learning rate})
ROWS = [
    ("exponential", S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5),
     {0: 0.1, 5: 0.1 * 0.5 ** 0.5, 10: 0.05, 25: 0.1 * 0.5 ** 2.5}),
    ("exponential-staircase", S.ExponentialDecay(0.1, 10, 0.5, staircase=True), {9: 0.1, 10: 0.05, 29: 0.025}),
    ("piecewise", S.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]),
     {0: 1.0, 100: 1.0, 101: 0.5, 110: 0.5, 111: 0.1, 10**6: 0.1}),
    ("inverse-time", S.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5), {0: 0.1, 1: 0.1 / 1.5, 4: 0.1 / 3}),
    ("inverse-time-staircase", S.InverseTimeDecay(0.2, 4, 1.0, staircase=True), {3: 0.2, 4: 0.1, 9: 0.2 / 3}),
    ("polynomial-linear", S.PolynomialDecay(0.1, 10, end_learning_rate=0.01), {0: 0.1, 5: 0.055, 10: 0.01, 50: 0.01}),
    ("polynomial-sqrt", S.PolynomialDecay(0.1, 100, 0.01, power=0.5), {19: 0.09 * 0.81 ** 0.5 + 0.01}),
    ("polynomial-cycle", S.PolynomialDecay(0.1, 10, 0.0, power=1.0, cycle=True),
     {0: 0.1, 5: 0.05, 10: 0.0, 15: 0.1 * (1 - 15 / 20), 20: 0.0, 21: 0.1 * (1 - 21 / 30)}),
    ("cosine", S.CosineDecay(1.0, decay_steps=8), {0: 1.0, 2: 0.5 * (1 + math.cos(PI / 4)), 4: 0.5, 8: 0.0,
                                                   100: 0.0}),
    ("cosine-alpha", S.CosineDecay(2.0, 10, alpha=0.1), {5: 2.0 * (0.9 * 0.5 + 0.1), 10: 0.2}),
    ("cosine-warmup", S.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4),
     {0: 0.0, 1: 0.25, 3: 0.75, 4: 1.0, 9: 0.5, 14: 0.0, 40: 0.0}),
    ("cosine-restarts", S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5, alpha=0.1),
     {s: _sgdr(s, 1.0, 10, 2.0, 0.5, 0.1) for s in (0, 3, 9, 10, 17, 29, 30, 55, 71)}),
    ("cosine-restarts-t1", S.CosineDecayRestarts(0.5, 4, t_mul=1.0, m_mul=0.9),
     {s: _sgdr(s, 0.5, 4, 1.0, 0.9, 0.0) for s in (0, 2, 4, 6, 9)}),
]
IDS = [r[0] for r in ROWS]


@pytest.mark.parametrize("name,schedule,expected", ROWS, ids=IDS)
def test_values_follow_the_keras_formulas(name, schedule, expected):
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value, rel=1e-12, abs=1e-15), f"step {step}"
    assert isinstance(schedule(np.int64(3)), float)


def test_sgdr_hand_values():
    s = S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5, alpha=0.0)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.5)  # half way through the first period
    assert s(10) == pytest.approx(0.5)  # the first restart starts at m_mul = 0.5
    assert s(20) == pytest.approx(0.25)  # half way through the 20-step second period
    assert s(30) == pytest.approx(0.25)  # second restart: 0.5^2


@pytest.mark.parametrize("name,schedule,expected", ROWS, ids=IDS)
def test_config_round_trip(name, schedule, expected):
    revived = schedules.deserialize(schedules.serialize(schedule))
    assert type(revived) is type(schedule) and revived.get_config() == schedule.get_config()
    for step in expected:
        assert revived(step) == schedule(step)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="one entry less than values"):
        S.PiecewiseConstantDecay([10, 20], [1.0, 0.5])
    with pytest.raises(ValueError, match="increase strictly"):
        S.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="first_decay_steps must be > 0"):
        S.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="unknown learning rate schedule 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_subclass_and_base_errors():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, lr):
            self.lr = lr

        def __call__(self, step):
            return self.lr / (step + 1)

        def get_config(self):
            return {"lr": self.lr}

    opt = optimizers.SGD(learning_rate=Halving(1.0))
    assert opt.learning_rate == 1.0
    revived = schedules.deserialize({"class_name": "Halving", "config": {"lr": 2.0}},
                                    custom_objects={"Halving": Halving})
    assert revived(3) == 0.5
    with pytest.raises(NotImplementedError, match="must override __call__"):
        schedules.LearningRateSchedule()(0)


def test_optimizer_reads_the_schedule_at_every_step():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 2)).astype(np.float32), rng.normal(size=(8, 1)).astype(np.float32)
    schedule = S.PiecewiseConstantDecay([1], [0.1, 0.0])  # steps 0 and 1 learn, later steps do not
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=schedule), loss="mse")
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)  # 4 steps: 0, 1, 2, 3
    after_fit = model.get_weights()
    assert model.optimizer.iterations == 4 and model.optimizer.learning_rate == 0.0
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    for a, b in zip(after_fit, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # lr 0 from step 2 on: the weights no longer move


def test_schedule_survives_optimizer_config_and_model_save(tmp_path):
    schedule = S.CosineDecay(0.01, 100, alpha=0.2, warmup_target=0.05, warmup_steps=10)
    opt = optimizers.Adam(learning_rate=schedule)
    revived = optimizers.Adam.from_config(opt.get_config())
    assert isinstance(revived._learning_rate, S.CosineDecay)
    assert revived._learning_rate.get_config() == schedule.get_config()
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=opt, loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, batch_size=2, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.optimizer.iterations == 2
    assert loaded.optimizer.learning_rate == pytest.approx(schedule(2))
