"""keras.callbacks.TensorBoard: Keras 3's folder layout and tags (train/, validation/, epoch_*, batch_*), values
equal to the History, read back by TensorBoard itself."""

import os
import re

import numpy as np
import pytest

from ganglion import keras

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def load(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def fit(log_dir, epochs=2, **tensorboard_args):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    callback = keras.callbacks.TensorBoard(str(log_dir), **tensorboard_args)
    history = model.fit(x, y, batch_size=4, epochs=epochs, validation_data=(x[:8], y[:8]), callbacks=[callback],
                        verbose=0)
    return model, callback, history, (x, y)


def test_epoch_scalars_in_train_and_validation(tmp_path):
    _, _, history, _ = fit(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    for kind in ("train", "validation"):
        (name,) = os.listdir(tmp_path / kind)
        assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
    train, validation = load(tmp_path / "train"), load(tmp_path / "validation")
    assert sorted(train.Tags()["scalars"]) == ["epoch_learning_rate", "epoch_loss", "epoch_mae"]
    # fit validates through evaluate's hooks, as Keras 3 does, so evaluation_* tags join the epoch ones
    assert sorted(validation.Tags()["scalars"]) == ["epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations",
                                                    "evaluation_mae_vs_iterations"]
    for acc, prefix in ((train, ""), (validation, "val_")):
        for metric in ("loss", "mae"):
            events = acc.Scalars(f"epoch_{metric}")
            assert [e.step for e in events] == [0, 1]
            np.testing.assert_allclose([e.value for e in events], history.history[prefix + metric], rtol=1e-6)
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == pytest.approx([0.05, 0.05])


def test_batch_scalars_every_update_freq_batches(tmp_path):
    fit(tmp_path, update_freq=3, write_steps_per_second=True)  # 4 batches an epoch, 8 in all
    train = load(tmp_path / "train")
    tags = set(train.Tags()["scalars"])
    assert {"batch_loss", "batch_mae", "batch_steps_per_second", "epoch_steps_per_second"} <= tags
    assert [e.step for e in train.Scalars("batch_loss")] == [3, 6]  # the global batch count, from 1
    assert all(e.value > 0 for e in train.Scalars("epoch_steps_per_second"))


def test_update_freq_batch_logs_every_batch(tmp_path):
    fit(tmp_path, epochs=1, update_freq="batch")
    assert [e.step for e in load(tmp_path / "train").Scalars("batch_mae")] == [1, 2, 3, 4]


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    model, _, _, _ = fit(tmp_path, epochs=3, histogram_freq=2)
    train = load(tmp_path / "train")
    assert sorted(train.Tags()["histograms"]) == ["dense/bias/histogram", "dense/kernel/histogram"]
    kernel = train.Histograms("dense/kernel/histogram")
    assert [e.step for e in kernel] == [0, 2]
    final = kernel[-1].histogram_value
    weights = model.layers[0].weights[0].numpy()
    assert final.num == weights.size
    assert final.sum == pytest.approx(float(weights.astype("float64").sum()), rel=1e-6)


def test_evaluate_logs_evaluation_vs_iterations(tmp_path):
    model, callback, _, (x, y) = fit(tmp_path, epochs=1)
    logs = model.evaluate(x, y, callbacks=[callback], verbose=0, return_dict=True)
    validation = load(tmp_path / "validation")
    events = validation.Scalars("evaluation_loss_vs_iterations")
    # one from the fit's validation at the end of epoch 1, one from this evaluate: both at iteration 4
    assert [e.step for e in events] == [model.optimizer.iterations] * 2 == [4, 4]
    assert any(e.value == pytest.approx(logs["loss"]) for e in events)  # same step: no order to rely on


@pytest.mark.parametrize("argument", [{"write_images": True}, {"embeddings_freq": 1}, {"profile_batch": 2},
                                      {"embeddings_metadata": "meta.tsv"}, {"update_freq": "step"},
                                      {"histogram_freq": -1}])
def test_unsupported_or_bad_arguments_raise_naming_them(tmp_path, argument):
    (name,) = argument
    with pytest.raises(ValueError, match=name):
        keras.callbacks.TensorBoard(str(tmp_path), **argument)


def test_tags_and_folders_are_keras_own():
    """Keras' callback needs TensorFlow to run; check the names ours writes against its source instead."""
    keras_source = pytest.importorskip("importlib.util").find_spec("keras")
    if keras_source is None:
        pytest.skip("keras is not installed")
    path = os.path.join(os.path.dirname(keras_source.origin), "src", "callbacks", "tensorboard.py")
    if not os.path.exists(path):
        pytest.skip("keras' TensorBoard callback source is not where Keras 3 keeps it")
    source = open(path).read()
    for expected in ['"train"', '"validation"', 'f"epoch_{name}"', 'f"batch_{name}"', '"batch_steps_per_second"',
                     'f"evaluation_{name}_vs_iterations"', '"learning_rate"', '"steps_per_second"',
                     'f"{weight_name}/histogram"', 'name[4:]']:
        assert expected in source, expected
    assert re.search(r'update_freq = 1 if update_freq == "batch"', source)
