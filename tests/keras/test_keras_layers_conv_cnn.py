"""A Keras-style VGG-block CNN, written as a Keras tutorial writes it (only the import prefix changed), learns a
synthetic image task (8x8 images holding one horizontal or one vertical bar, with noise); the same architecture
matches PyTorch step for step with the same weights."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.keras import optimizers
from ganglion.keras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPool2D
from ganglion.keras.models import Sequential


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny convolutions: PyTorch's thread pool only adds contention on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def bars(n, seed):
    """n images (n, 8, 8, 1): label 0 = a horizontal bar, 1 = a vertical bar, at a random position, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0.0, 0.2, (n, 8, 8, 1)).astype(np.float32)
    where = rng.integers(0, 8, n)
    for i in range(n):
        if y[i] == 0:
            x[i, where[i], :, 0] += 1.0
        else:
            x[i, :, where[i], 0] += 1.0
    return x, y


def vgg_block_model(dropout=0.25):
    return Sequential([
        Input(shape=(8, 8, 1)),
        Conv2D(8, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
        Conv2D(8, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
        MaxPool2D((2, 2)),
        Flatten(),
        Dense(16, activation="relu", kernel_initializer="he_uniform"),
        Dropout(dropout),
        Dense(2, activation="softmax"),
    ])


def test_vgg_block_cnn_learns_bars():
    g.manual_seed(0)
    x_train, y_train = bars(240, seed=1)
    x_test, y_test = bars(100, seed=2)
    model = vgg_block_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=8, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.95
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95
    assert model.predict(x_test[:5], verbose=0).shape == (5, 2)
    assert model.count_params() == 80 + 584 + 2064 + 34


def torch_twin(model):
    """The same network in PyTorch (NCHW inside, flattened in Keras' channels-last order), Keras weights copied."""
    conv1, conv2, _, _, dense1, _, dense2 = model.layers

    def conv(layer):
        kernel, bias = layer.get_weights()
        m = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[:2], padding=1)
        m.weight.data = torch.tensor(kernel.transpose(3, 2, 0, 1).copy())
        m.bias.data = torch.tensor(bias)
        return m

    def dense(layer):
        kernel, bias = layer.get_weights()
        m = torch.nn.Linear(*kernel.shape)
        m.weight.data, m.bias.data = torch.tensor(kernel.T.copy()), torch.tensor(bias)
        return m

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2, self.d1, self.d2 = conv(conv1), conv(conv2), dense(dense1), dense(dense2)

        def forward(self, x):
            x = torch.relu(self.c2(torch.relu(self.c1(x.permute(0, 3, 1, 2)))))
            x = torch.nn.functional.max_pool2d(x, 2).permute(0, 2, 3, 1).flatten(1)
            return self.d2(torch.relu(self.d1(x)))  # logits; Keras' softmax + CE == cross_entropy on logits

    return Twin()


def test_vgg_block_cnn_matches_torch_step_for_step():
    g.manual_seed(1)
    x, y = bars(16, seed=3)
    model = vgg_block_model(dropout=0.0)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="sparse_categorical_crossentropy")
    twin = torch_twin(model)
    velocity = [torch.zeros_like(p) for p in twin.parameters()]
    xt, yt = torch.tensor(x), torch.tensor(y)
    np.testing.assert_allclose(model.predict(x, verbose=0), torch.softmax(twin(xt), -1).detach().numpy(),
                               rtol=1e-4, atol=1e-6)
    for _ in range(3):
        model.reset_metrics()  # Keras 3's train_on_batch reports the running mean since the last reset
        keras_loss = model.train_on_batch(x, y)
        twin.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(xt), yt)
        loss.backward()
        with torch.no_grad():  # PyTorch's SGD with momentum: b = 0.9 b + grad; p -= 0.1 b
            for p, b in zip(twin.parameters(), velocity):
                b.mul_(0.9).add_(p.grad)
                p.sub_(0.1 * b)
        np.testing.assert_allclose(keras_loss, loss.item(), rtol=1e-4)
    np.testing.assert_allclose(model.layers[0].get_weights()[0], twin.c1.weight.detach().numpy().transpose(2, 3, 1, 0),
                               rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), torch.softmax(twin(xt), -1).detach().numpy(),
                               rtol=1e-3, atol=1e-5)


def test_summary_rows_are_keras():
    g.keras.backend.clear_session()
    lines = []
    vgg_block_model().summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [
        ("conv2d (Conv2D)", "(None, 8, 8, 8)", "80"), ("conv2d_1 (Conv2D)", "(None, 8, 8, 8)", "584"),
        ("max_pooling2d (MaxPooling2D)", "(None, 4, 4, 8)", "0"), ("flatten (Flatten)", "(None, 128)", "0"),
        ("dense (Dense)", "(None, 16)", "2,064"), ("dropout (Dropout)", "(None, 16)", "0"),
        ("dense_1 (Dense)", "(None, 2)", "34"),
    ]
    table = [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines() if "│" in line]
    assert table == [list(r) for r in rows]
    assert "Total params: 2,762 (10.79 KB)" in text and "Non-trainable params: 0 (0.00 B)" in text


def test_functional_conv_model_with_every_conv_layer_saves_and_loads(tmp_path):
    from ganglion.keras import layers as L

    inputs = L.Input(shape=(6, 6, 3))
    a = L.SeparableConv2D(4, 3, padding="same", activation="relu")(inputs)
    b = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(inputs)
    c = L.Conv2DTranspose(4, 3, strides=2, padding="same")(L.Concatenate()([a, b]))
    d = L.AveragePooling2D(padding="same")(L.Conv2D(4, 3, strides=2, padding="same", groups=2)(c))
    e = L.Add()([L.GlobalAveragePooling2D()(d), L.GlobalMaxPooling2D()(L.UpSampling2D()(L.ZeroPadding2D()(d)))])
    f = L.Conv1D(2, 2, padding="causal")(L.Reshape((2, 2))(e))
    model = g.keras.Model(inputs, L.Dense(1)(L.Flatten()(f)))
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype(np.float32)
    path = tmp_path / "convs.keras"
    model.save(path)
    loaded = g.keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert [w.shape for w in loaded.weights] == [w.shape for w in model.weights]
