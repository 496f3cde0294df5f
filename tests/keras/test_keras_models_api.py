"""The model API: Sequential (list, add, pop, nested blocks, lazy build), functional models (shared layers, dict
inputs), subclassed models; layers, get_layer, count_params, get/set_weights, get_config/from_config, trainable
flags for fine-tuning, add_loss; and the errors for unknown names and bad arguments."""

import numpy as np
import pytest

import ganglion
from ganglion.keras import Input, Model, Sequential, layers, optimizers
from ganglion.keras.layers import Dense


def _x(n=6, features=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, features)).astype(np.float32)


def test_sequential_add_pop_and_lazy_build():
    model = Sequential()
    model.add(Dense(5, activation="relu"))
    model.add(Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="not built yet"):
        model.count_params()
    out = model(_x())
    assert model.built and tuple(out.shape) == (6, 2) and model.count_params() == 4 * 5 + 5 + 5 * 2 + 2
    assert model.layers[1].get_weights()[0].shape == (5, 2)
    popped = model.pop()
    assert popped.units == 2 and len(model.layers) == 1 and model.output_shape == (None, 5)
    built = Sequential([Input(shape=(3,)), Dense(4)])
    assert built.built and built.input_shape == (None, 3) and built.count_params() == 16
    explicit = Sequential([Dense(4)])
    explicit.build((None, 7))
    assert explicit.count_params() == 32


def test_nested_sequential_blocks():
    block = Sequential([Dense(6, activation="relu"), Dense(6, activation="relu")], name="block")
    model = Sequential([Input(shape=(4,)), block, Dense(2)])
    assert [layer.name for layer in model.layers] == ["block", model.layers[1].name]
    assert model.count_params() == (4 * 6 + 6) + (6 * 6 + 6) + (6 * 2 + 2)
    assert [w.shape for w in model.get_weights()] == [(4, 6), (6,), (6, 6), (6,), (6, 2), (2,)]  # depth first
    assert tuple(model(_x()).shape) == (6, 2)


def test_functional_shared_layer_and_dict_inputs():
    shared = Dense(3, name="shared")
    a, b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    out = layers.Add()([shared(a), shared(b)])
    model = Model(inputs={"a": a, "b": b}, outputs=out)
    xa, xb = _x(seed=1), _x(seed=2)
    w, bias = shared.get_weights()
    expected = xa @ w + bias + xb @ w + bias
    np.testing.assert_allclose(model.predict({"b": xb, "a": xa}, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert model.count_params() == 15 and model.get_layer("shared") is shared
    assert model.name.startswith("functional")
    with pytest.raises(ValueError, match=r"input dict has no entry for \['b'\]"):
        model.predict({"a": xa}, verbose=0)


def test_functional_errors():
    a = Input(shape=(4,))
    other = Input(shape=(4,))
    y = Dense(2)(other)
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, y)
    with pytest.raises(ValueError, match="symbolic tensors"):
        Model(a, np.zeros(3))
    model = Model(a, Dense(2)(a))
    with pytest.raises(ValueError, match=r"expects shape \(None, 4\), got \(6, 5\)"):
        model(_x(features=5))


def test_get_layer_layers_and_weights_round_trip():
    model = Sequential([Dense(3, input_shape=(4,), name="first"), Dense(2, name="second")])
    assert model.get_layer("second") is model.layers[1] and model.get_layer(index=0).name == "first"
    with pytest.raises(ValueError, match=r"No such layer: third. Existing layers are: \['first', 'second'\]"):
        model.get_layer("third")
    weights = [np.full(w.shape, i, dtype=np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), weights[0])
    with pytest.raises(ValueError, match=r"set_weights expects 4 arrays"):
        model.set_weights(weights[:3])
    with pytest.raises(ValueError, match=r"weight 'kernel': expected a value of shape \(4, 3\)"):
        model.set_weights([weights[0].T] + weights[1:])


def _same_predictions(a, b):
    x = _x()
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


def test_get_config_from_config_sequential_and_functional():
    seq = Sequential([Dense(5, activation="tanh", input_shape=(4,), kernel_initializer="he_uniform",
                            kernel_regularizer="l2"), layers.Dropout(0.2), Dense(2, activation="softmax")])
    again = Sequential.from_config(seq.get_config())
    assert [type(la) for la in again.layers] == [type(la) for la in seq.layers]
    assert again.layers[0].activation is seq.layers[0].activation and again.layers[2].units == 2
    assert len(again.losses) == 1
    _same_predictions(seq, again)

    a = Input(shape=(4,))
    h = Dense(3, activation="relu")(a)
    model = Model(a, [Dense(2)(h), layers.Concatenate()([h, a])])
    rebuilt = Model.from_config(model.get_config())
    assert [type(la).__name__ for la in rebuilt.layers] == [type(la).__name__ for la in model.layers]
    x = _x()
    rebuilt.set_weights(model.get_weights())
    for p, q in zip(model.predict(x, verbose=0), rebuilt.predict(x, verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_freezing_layers_for_fine_tuning(capsys):
    base = Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(6, activation="relu")], name="base")
    model = Sequential([base, Dense(2, activation="softmax")])
    base.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    frozen = base.get_weights()
    model.compile(optimizer=optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    head = model.layers[1].get_weights()
    model.fit(_x(8), np.arange(8) % 2, epochs=2, verbose=0)
    for a, b in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(head[0], model.layers[1].get_weights()[0])
    model.summary(line_length=80)
    out = capsys.readouterr().out
    assert " Trainable params: 14 (56.00 B)" in out and " Non-trainable params: 72 (288.00 B)" in out
    base.trainable = True  # unfreeze, recompile, train: now the base moves too
    model.compile(optimizer=optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(_x(8), np.arange(8) % 2, epochs=1, verbose=0)
    assert not np.array_equal(frozen[0], base.get_weights()[0])


def test_add_loss_and_activity_regularizer_join_the_training_loss():
    class Penalized(layers.Layer):
        def call(self, inputs):
            self.add_loss((inputs ** 2).mean())
            return inputs

    x, y = _x(4), np.zeros((4, 2), dtype=np.float32)
    ganglion.manual_seed(0)
    model = Sequential([Input(shape=(4,)), Penalized(), Dense(2, activity_regularizer="l1")])
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(x, verbose=0)
    expected = ((out - y) ** 2).mean() + (x ** 2).mean() + 0.01 * np.abs(out).sum()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), expected, rtol=1e-5)
    assert len(model.losses) == 2


@pytest.mark.parametrize("arg, value, pattern", [
    ("optimizer", "adamm", r"unknown optimizer 'adamm'; accepted names are: .*adam.*rmsprop.*sgd"),
    ("loss", "categorical_crossentropi", r"unknown loss 'categorical_crossentropi'; accepted names are: .*mse"),
    ("metrics", ["acuracy"], r"unknown metric 'acuracy'; accepted names are: "),
])
def test_compile_rejects_unknown_names(arg, value, pattern):
    model = Sequential([Dense(2, input_shape=(4,))])
    kwargs = {"optimizer": "sgd", "loss": "mse", arg: value}
    with pytest.raises(ValueError, match=pattern):
        model.compile(**kwargs)


def test_unknown_activation_and_bad_layer_arguments():
    with pytest.raises(ValueError, match=r"unknown activation 'rel'; accepted names are: .*relu.*softmax"):
        Dense(3, activation="rel")
    with pytest.raises(ValueError, match="units must be a positive int"):
        Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        Dense(3, unit=4)
    with pytest.raises(TypeError, match="Sequential.add expects a keras Layer"):
        Sequential([np.zeros(3)])


def test_subclassed_model_must_define_call():
    with pytest.raises(NotImplementedError, match="must define call"):
        Model()(_x())


class Affine(layers.Layer):
    """y = x @ w + b + offset; ``offset`` is a non-trainable weight, ``w`` regularized and constrained."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones", regularizer="l2",
                                 constraint=lambda t: t.clamp(max=1.0))
        self.b = self.add_weight("b", (self.units,), initializer="zeros")
        self.offset = self.add_weight(shape=(self.units,), initializer="ones", trainable=False)

    def call(self, inputs):
        return inputs @ self.w + self.b + self.offset


def test_custom_layer_weights_from_add_weight():
    layer = Affine(2)
    model = Sequential([Input(shape=(3,)), layer])
    assert [w.name for w in layer.weights] == ["w", "b", "offset"] and layer.count_params() == 10
    assert [w.name for w in model.trainable_weights] == ["w", "b"] and len(model.losses) == 1
    np.testing.assert_allclose(model.losses[0].item(), 0.01 * 6)
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    model.fit(_x(8, 3), np.full((8, 2), 5.0, dtype=np.float32), epochs=2, verbose=0)
    w, b, offset = layer.get_weights()
    assert np.all(w <= 1.0) and np.any(b != 0) and np.all(offset == 1.0)  # constraint kept w <= 1
    assert tuple(layer.add_weight().shape) == ()  # Keras 3: the shape defaults to a scalar


def test_constraints_and_penalties_of_lazily_built_subclassed_models():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(4, kernel_constraint=lambda t: t.clamp(min=0.0), kernel_regularizer="l1")
            self.out = Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    ganglion.manual_seed(0)
    model = Net()
    model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    model.fit(_x(8, 3), -np.ones((8, 1), dtype=np.float32), epochs=3, batch_size=4, verbose=0)
    assert model.hidden.get_weights()[0].min() >= 0.0  # the constraint ran from the first fit on
    assert len(model.losses) == 1
