"""``keras.datasets.fashion_mnist.load_data()``: Zalando's Fashion-MNIST, 10 kinds of clothing in MNIST's format."""

from ...data.datasets import FashionMNIST
from .mnist import load_idx_family


def load_data(root=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28) and uint8 labels (n,) in 0..9
    (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).
    The files are ``<root>/FashionMNIST/raw/*-ubyte.gz`` (see ``mnist.load_data``)."""
    return load_idx_family(FashionMNIST, root)
