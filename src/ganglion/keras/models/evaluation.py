"""Keras' evaluation and inference API over the same steps as ``fit``: ``evaluate``, ``predict``,
``train_on_batch``, ``test_on_batch``, ``predict_on_batch``. Inference runs ``test_step`` / ``predict_step`` in eval
mode and without a graph, as Keras' torch backend does."""

import time

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ..callbacks import Callback, CallbackList
from ..callbacks.progbar import progress_line
from .compile_utils import flatten
from .class_weight import with_class_weight
from .data_adapter import ArrayData, EpochIterator, adapt, pack


class Evaluation:
    """Mixed into ``Model`` (with ``Trainer``, whose steps it runs)."""

    # ------------------------------------------------------------------------------------------------ evaluate
    def _evaluate_data(self, data, steps=None, callback_list=None):
        """Loss and metrics over ``data`` by ``test_step`` in inference mode, without a graph (the metrics start
        from zero)."""
        self.reset_metrics()
        was_training = self.training
        self.eval()
        hooks = callback_list is not None and any(_overrides(cb, "on_test_batch_begin", "on_test_batch_end")
                                                  for cb in callback_list.callbacks)
        logs, count = None, 0
        try:
            for step, batch in EpochIterator(data, steps).epoch():
                if hooks:
                    callback_list.on_test_batch_begin(step)
                with no_grad():
                    logs = self.test_step(pack(*batch))
                count += 1
                if hooks:
                    callback_list.on_test_batch_end(step, logs)
        finally:
            self.train(was_training)
        if count == 0:
            raise ValueError("evaluate got no batches: the data is empty (or steps=0)")
        self.__dict__["_steps_evaluated"] = count
        return dict(self._get_metrics_result_or_logs(logs))

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss and metrics on the data: a list [loss, metric...] in ``metrics_names`` order (a float when there is
        only the loss), or a dict with ``return_dict=True``."""
        self._assert_compiled("evaluate")
        data = adapt(x, y, sample_weight, batch_size, False).to_device(_device_of(self))
        callback_list = CallbackList(list(callbacks or []), self, {"steps": data.steps, "verbose": verbose})
        start = time.perf_counter()
        callback_list.on_test_begin()
        own = self._train_context is None
        if own:
            self._enter()
        try:
            logs = self._evaluate_data(data, steps, callback_list)
        finally:
            if own:
                self._exit()
        callback_list.on_test_end(logs)
        if verbose:
            _print_done(self._steps_evaluated, start, logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    # ------------------------------------------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, batched, in inference mode and without a graph: NumPy arrays (a list or
        dict of them for several outputs)."""
        data = adapt(x, None, None, batch_size, False).to_device(_device_of(self))
        callback_list = CallbackList(list(callbacks or []), self, {"steps": data.steps, "verbose": verbose})
        was_training = self.training
        self.eval()
        outputs, structure, start = [], None, time.perf_counter()
        callback_list.on_predict_begin()
        try:
            for step, (xb, _, _) in EpochIterator(data, steps, reset=False).epoch():
                callback_list.on_predict_batch_begin(step)
                with no_grad():
                    out = self.predict_step((xb,))
                structure = out
                outputs.append([backend.to_numpy(o.array) for o in flatten(out)])
                callback_list.on_predict_batch_end(step, {"outputs": out})
        finally:
            self.train(was_training)
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict got no data: x is empty (or steps=0)")
        if verbose:
            _print_done(len(outputs), start, {})
        merged = [np.concatenate([batch[i] for batch in outputs]) for i in range(len(outputs[0]))]
        if isinstance(structure, dict):
            return dict(zip(structure, merged))
        return merged if isinstance(structure, (list, tuple)) else merged[0]

    # -------------------------------------------------------------------------------------------- on_batch
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns its loss and metrics (Keras 3 resets the metrics first)."""
        self._assert_compiled("train_on_batch")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"Arguments `sample_weight` and `class_weight` cannot be specified at the same time. "
                             f"Received: sample_weight={sample_weight}, class_weight={class_weight}")
        data = ArrayData(x, y, sample_weight, batch_size=None)
        if class_weight is not None:
            data = with_class_weight(data, class_weight, sample_weight)
        data.to_device(_device_of(self))
        data.batch_size = data.n
        batch = next(data.batches())
        self.train()
        self.reset_metrics()
        self._enter()
        try:
            logs = self.train_step(pack(*batch))
        finally:
            self._exit()
            self.eval()
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics on one batch, without training (Keras 3 resets the metrics first)."""
        self._assert_compiled("test_on_batch")
        data = ArrayData(x, y, sample_weight, batch_size=None).to_device(_device_of(self))
        data.batch_size = data.n
        batch = next(data.batches())
        was_training = self.training
        self.eval()
        self.reset_metrics()
        self._enter()
        try:
            with no_grad():
                logs = self.test_step(pack(*batch))
        finally:
            self._exit()
            self.train(was_training)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch, as NumPy arrays."""
        data = ArrayData(x, None, None, batch_size=None).to_device(_device_of(self))
        data.batch_size = data.n
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                out = self.predict_step(next(data.batches()))
        finally:
            self.train(was_training)
        if isinstance(out, dict):
            return {k: backend.to_numpy(v.array) for k, v in out.items()}
        arrays = [backend.to_numpy(o.array) for o in flatten(out)]
        return arrays if isinstance(out, (list, tuple)) else arrays[0]


def _device_of(model):
    for p in model.parameters():
        return p.device
    return None


def _overrides(cb, *hooks):
    """Whether callback ``cb`` defines any of ``hooks`` itself (the base class's are no-ops)."""
    return any(getattr(type(cb), h, None) is not getattr(Callback, h, None) for h in hooks)


def _print_done(steps, start, logs):
    print(progress_line(steps, steps, time.perf_counter() - start, logs))
