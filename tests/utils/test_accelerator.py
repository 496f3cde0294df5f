"""``ganglion.accelerator`` answers as ``torch.accelerator``: on a machine without a GPU, exactly as a CPU-only
PyTorch (same values, same error types); with CuPy and a GPU, for cuda."""

import warnings

import pytest
import torch

import ganglion
from ganglion import accelerator

NO_GPU = not ganglion.cuda.is_available()
cpu_only = pytest.mark.skipif(not NO_GPU, reason="checks the answers of a machine without a GPU")
gpu = pytest.mark.skipif(NO_GPU, reason="needs CuPy and a GPU")


@cpu_only
def test_cpu_only_answers_match_torch():
    assert accelerator.is_available() is False is torch.accelerator.is_available()
    assert accelerator.current_accelerator() is None is torch.accelerator.current_accelerator()
    assert accelerator.current_accelerator(check_available=True) is None
    assert accelerator.device_count() == 0 == torch.accelerator.device_count()


@cpu_only
@pytest.mark.parametrize("call", [
    lambda a: a.current_device_index(),
    lambda a: a.set_device_index(0),
    lambda a: a.synchronize(),
    lambda a: a.empty_cache(),
    lambda a: a.memory_allocated(),
    lambda a: a.device_index(0).__enter__(),
])
def test_cpu_only_device_calls_raise_like_torch(call):
    with pytest.raises(RuntimeError, match="none is available") as theirs:
        call(torch.accelerator)
    with pytest.raises(RuntimeError) as ours:
        call(accelerator)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("bad", [None, 1.5, [0]])
def test_set_device_index_rejects_non_devices_with_value_error(bad):
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or an integer"):
        torch.accelerator.set_device_index(bad)
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or an integer"):
        accelerator.set_device_index(bad)


@pytest.mark.parametrize("device", ["cpu", ganglion.device("cpu")])
def test_a_cpu_device_is_not_an_accelerator(device):
    with pytest.raises(RuntimeError, match="Accelerator expected"):
        accelerator.set_device_index(device)
    with pytest.raises(RuntimeError, match="Accelerator expected"):
        accelerator.synchronize(device)


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match="current_device_index"):
        try:
            accelerator.current_device_idx()
        except RuntimeError:
            assert NO_GPU


def test_device_index_none_is_a_no_op():
    with accelerator.device_index(None):
        pass


def test_device_selection_pattern_from_pytorch_examples():
    acc = accelerator.current_accelerator()
    device = acc if accelerator.is_available() else ganglion.device(type="cpu")
    assert device == ganglion.device("cuda" if ganglion.cuda.is_available() else "cpu")
    model = ganglion.nn.Linear(3, 2).to(device)
    x = ganglion.ones(4, 3).to(device)
    assert model(x).device == device and model.weight.device == device


@gpu
def test_gpu_answers():
    assert accelerator.is_available()
    assert accelerator.current_accelerator() == ganglion.device("cuda")
    assert accelerator.device_count() == ganglion.cuda.device_count() >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        accelerator.set_device_index(0)
    assert accelerator.current_device_index() == 0
    with accelerator.device_index(0):
        assert accelerator.current_device_index() == 0
    accelerator.synchronize()
    x = ganglion.ones(256).to("cuda")
    assert accelerator.memory_allocated() >= x.array.nbytes
    assert accelerator.memory_reserved() >= accelerator.memory_allocated()
