"""The Keras face: ``summary(show_flops=True)`` costs layers with ``insight.layer_cost``, and the
``TrainingDoctor`` callback names a broken fit and stays quiet on a healthy one."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import ganglion.keras as K  # noqa: E402
from ganglion.data.datasets import load_iris  # noqa: E402
from ganglion.keras import layers as L  # noqa: E402
from ganglion.keras.callbacks import TrainingDoctor  # noqa: E402


def _summary(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_summary_flops_column_on_a_small_cnn():
    K.backend.clear_session()
    model = K.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                          L.Dense(5)])
    text = _summary(model, show_flops=True)
    table = [[c.strip() for c in line.strip("│").split("│")] for line in text.splitlines() if "│" in line]
    flops = {row[0]: row[-1] for row in table if row[0]}
    assert flops["conv2d (Conv2D)"] == f"{6 * 6 * 4 * 9 + 6 * 6 * 4:,}"  # conv + fused relu, one sample
    assert flops["dense (Dense)"] == f"{36 * 5:,}" and flops["flatten (Flatten)"] == "0"
    total = 6 * 6 * 4 * 9 + 6 * 6 * 4 + 3 * 3 * 4 * 4 + 36 * 5
    assert f"Total FLOPs (mult-adds per sample): {total:,}" in text
    assert "FLOPs" not in _summary(model)  # Keras' own layout by default


def _iris(seed=0):
    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")[order]
    return x, y[order]


def _fit(model, loss, lr, epochs):
    x, y = _iris()
    model.compile(optimizer=K.optimizers.Adam(lr), loss=loss)
    doctor = TrainingDoctor(verbose=0)
    model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0, callbacks=[doctor])
    return doctor


def test_doctor_callback_names_dead_relus():
    K.utils.set_random_seed(0)
    model = K.Sequential([L.Input((4,)), L.Dense(32, activation="relu",
                                                 bias_initializer=K.initializers.Constant(-20.0)), L.Dense(3)])
    doctor = _fit(model, K.losses.SparseCategoricalCrossentropy(from_logits=True), 1e-3, 5)
    assert "dead_relus" in [d.name for d in doctor.diagnoses]


def test_doctor_callback_names_softmax_into_from_logits():
    K.utils.set_random_seed(0)
    model = K.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(3, activation="softmax")])
    doctor = _fit(model, K.losses.SparseCategoricalCrossentropy(from_logits=True), 1e-2, 3)
    assert "probabilities_into_logit_loss" in [d.name for d in doctor.diagnoses]


def test_doctor_callback_is_quiet_on_healthy_iris(capsys):
    K.utils.set_random_seed(0)
    model = K.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(3, activation="softmax")])
    doctor = _fit(model, "sparse_categorical_crossentropy", 1e-2, 30)
    assert doctor.diagnoses == [], [str(d) for d in doctor.diagnoses]
    assert doctor.doctor.steps == 30 * 4 and len(doctor.doctor.obs.validation) == 30
