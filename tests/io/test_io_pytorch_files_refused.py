"""A pickled PyTorch file (torch.save's zip, or a bare pickle) given to any loader of either face is refused before
anything is unpickled, with an error naming the loader, the file and the format, and saying how to convert it."""

import pickle

import pytest
import torch

import ganglion
from ganglion import keras
from ganglion.keras import layers


def _torch_zip(path):
    torch.save({"weight": torch.ones(2, 2)}, path)


def _bare_pickle(path):
    with open(path, "wb") as f:
        pickle.dump({"weight": [1.0, 2.0]}, f, protocol=2)


def _keras_model():
    return keras.Sequential([layers.Input((2,)), layers.Dense(2)])


LOADERS = [
    ("ganglion.load", "load", lambda p: ganglion.load(p)),
    ("io.load_model", "load_model", lambda p: ganglion.io.load_model(p)),
    ("keras load_model", "load_model", lambda p: keras.models.load_model(p)),
    ("keras load_weights", "load_weights", lambda p: _keras_model().load_weights(p)),
    ("a zoo model's weights=", "load", lambda p: ganglion.vision.models.lenet(weights=p)),
]
FILES = [("torch.save zip", _torch_zip, "data.pkl"), ("bare pickle", _bare_pickle, "a pickle")]


@pytest.mark.parametrize("loader, op, load", LOADERS, ids=[row[0] for row in LOADERS])
@pytest.mark.parametrize("kind, write, described", FILES, ids=[row[0] for row in FILES])
def test_pytorch_files_are_refused_with_advice(tmp_path, loader, op, load, kind, write, described):
    import ganglion.vision.models  # noqa: F401  (the zoo row)

    path = tmp_path / "model.pth"
    write(path)
    with pytest.raises(ValueError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith(f"{op}: ") and str(path) in message and "pickled PyTorch file" in message
    assert described in message and "ganglion convert" in message
