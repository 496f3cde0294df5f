"""``keras.datasets``: ``mnist``, ``fashion_mnist``, ``cifar10`` and ``cifar100``, each with Keras' ``load_data()``.

They return NumPy arrays in Keras' shapes and dtypes, read by the engine's loaders (``ganglion.data.datasets``):
one download path, checksummed, into ``$GANGLION_HOME/datasets`` (default ``~/.cache/ganglion/datasets``). Offline,
put the original files there yourself; ``load_data`` names the folder and the files it expects when they are absent.

    mnist / fashion_mnist   x uint8 (n, 28, 28)       y uint8 (n,)      files: <root>/MNIST/raw/*-ubyte.gz
                                                                               <root>/FashionMNIST/raw/*-ubyte.gz
    cifar10 / cifar100      x uint8 (n, 32, 32, 3)    y uint8 (n, 1)    files: <root>/cifar-10-batches-bin/*.bin
                                                                               <root>/cifar-100-binary/*.bin
CIFAR is read from its binary version (fixed-length records), never from the pickled "python version" Keras uses.
"""

from . import cifar10, cifar100, fashion_mnist, mnist  # noqa: F401
