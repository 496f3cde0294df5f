"""The data workloads of the data issue, ganglion vs PyTorch on 60,000 MNIST-shaped images (28 x 28 uint8):

- the augmentation pipeline ToTensor + Normalize + RandomCrop(28, padding=4) + RandomHorizontalFlip, image by image;
- the same pipeline applied to the whole batch at once (ganglion's transforms take batches; PyTorch's side is the
  same steps written with torch ops on the batch);
- one shuffled DataLoader epoch (batch 64) over a dataset applying the pipeline per sample, in the main process.

torchvision cannot be installed beside torch 2.13 here, so the PyTorch side is ``torch.utils.data.DataLoader``
with the pipeline written by hand in torch ops (what a torchvision transform does, minus its dispatch).
``benchmarks/data_throughput.py`` reports images per second and the thread/process worker comparison.

The Pillow workloads (issue 14: per-image transforms at least as fast as Pillow) compare ganglion's transforms on
photo-sized images (375 x 500 RGB, ImageNet's typical size) with the same steps done by hand in Pillow and NumPy,
which is what torchvision's transforms do on Pillow images (their Resize calls ``Image.resize`` with BILINEAR);
their second side ("pytorch" in ``run.py``'s columns) is that Pillow code:

- Resize(256) alone, on Pillow images and on uint8 arrays (H, W, 3);
- Resize(256) + RandomCrop(224) + RandomHorizontalFlip + ToTensor + Normalize on Pillow images.
"""

import numpy as np

N_IMAGES = 60_000


def _images(n=N_IMAGES, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64)


def ganglion_pipeline():
    from ganglion.data import transforms as T

    return T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize((0.5,), (0.5,))])


def torch_pipeline():
    """The same four steps on one uint8 image (28, 28) with torch ops."""
    import torch
    import torch.nn.functional as F

    def transform(img):
        x = F.pad(torch.from_numpy(img)[None], (4, 4, 4, 4))           # RandomCrop's padding
        i, j = torch.randint(0, 9, (2,)).tolist()
        x = x[:, i:i + 28, j:j + 28]
        if torch.rand(()) < 0.5:                                      # RandomHorizontalFlip
            x = x.flip(-1)
        x = x.float().div(255)                                        # ToTensor
        return (x - 0.5) / 0.5                                        # Normalize

    return transform


def torch_batch_pipeline(images):
    """The four steps on a whole batch (N, 28, 28) with torch ops, per-image random parameters."""
    import torch
    import torch.nn.functional as F

    x = F.pad(torch.from_numpy(images)[:, None], (4, 4, 4, 4))
    n = x.shape[0]
    corner = torch.randint(0, 9, (n, 2))
    rows = corner[:, :1] + torch.arange(28)
    cols = corner[:, 1:] + torch.arange(28)
    x = x[torch.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]
    flip = torch.rand(n) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return (x.float().div(255) - 0.5) / 0.5


def make_per_image():
    images, _ = _images()

    def make_ganglion():
        transform = ganglion_pipeline()
        return lambda: [transform(img) for img in images]

    def make_torch():
        transform = torch_pipeline()
        return lambda: [transform(img) for img in images]

    return make_ganglion, make_torch


def make_batched():
    images, _ = _images()

    batch = images[..., None]  # (N, H, W, 1): NumPy images are channels-last

    def make_ganglion():
        transform = ganglion_pipeline()
        return lambda: transform(batch)

    def make_torch():
        return lambda: torch_batch_pipeline(images)

    return make_ganglion, make_torch


class _GanglionImages:
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def make_loader_epoch(num_workers=0):
    images, labels = _images()

    def make_ganglion():
        from ganglion.data import DataLoader, Dataset

        dataset = type("Images", (_GanglionImages, Dataset), {})(images, labels, ganglion_pipeline())
        loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=num_workers)
        return lambda: sum(1 for _ in loader)

    def make_torch():
        import torch.utils.data as tud

        dataset = type("Images", (_GanglionImages, tud.Dataset), {})(images, labels, torch_pipeline())
        loader = tud.DataLoader(dataset, batch_size=64, shuffle=True, num_workers=num_workers)
        return lambda: sum(1 for _ in loader)

    return make_ganglion, make_torch


PHOTO_SHAPE, PHOTOS = (375, 500, 3), 100
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _photos(n=PHOTOS, seed=0):
    """``n`` smooth RGB uint8 photos (375, 500, 3) (a noise field blurred by upsampling, like natural images)."""
    rng = np.random.default_rng(seed)
    from PIL import Image

    coarse = rng.integers(0, 256, (n, 24, 32, 3), dtype=np.uint8)
    h, w, _ = PHOTO_SHAPE
    return [np.asarray(Image.fromarray(c).resize((w, h), Image.Resampling.BICUBIC)) for c in coarse]


def _short_edge(size, h, w, target=256):
    """(width, height) of torchvision's Resize(target) on a (h, w) image (shorter edge -> target)."""
    return (target, int(target * h / w)) if w <= h else (int(target * w / h), target)


def pillow_pipeline(seed=0):
    """Resize(256) + RandomCrop(224) + RandomHorizontalFlip + ToTensor + Normalize on one Pillow image, by hand:
    the Pillow calls torchvision makes, then NumPy for the float steps."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    mean = np.asarray(IMAGENET_MEAN, np.float32).reshape(3, 1, 1)
    std = np.asarray(IMAGENET_STD, np.float32).reshape(3, 1, 1)

    def transform(img):
        w, h = _short_edge(256, img.height, img.width)
        img = img.resize((w, h), Image.Resampling.BILINEAR)
        top, left = int(rng.integers(0, h - 224 + 1)), int(rng.integers(0, w - 224 + 1))
        img = img.crop((left, top, left + 224, top + 224))
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x = np.asarray(img).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
        return (x - mean) / std

    return transform


def ganglion_photo_pipeline():
    from ganglion.data import transforms as T

    return T.Compose([T.Resize(256), T.RandomCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def make_pil_pipeline():
    from PIL import Image

    images = [Image.fromarray(a) for a in _photos()]

    def make_ganglion():
        transform = ganglion_photo_pipeline()
        return lambda: [transform(img) for img in images]

    def make_pillow():
        transform = pillow_pipeline()
        return lambda: [transform(img) for img in images]

    return make_ganglion, make_pillow


def _make_resize(as_pil):
    from PIL import Image

    arrays = _photos()
    images = [Image.fromarray(a) for a in arrays] if as_pil else arrays

    def make_ganglion():
        from ganglion.data import transforms as T

        resize = T.Resize(256)
        return lambda: [resize(img) for img in images]

    def make_pillow():
        size = _short_edge(256, *PHOTO_SHAPE[:2])
        if as_pil:
            return lambda: [img.resize(size, Image.Resampling.BILINEAR) for img in images]
        return lambda: [np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BILINEAR)) for a in images]

    return make_ganglion, make_pillow


WORKLOADS = {
    "data: crop+flip+ToTensor+Normalize, 60k 28x28, per image": make_per_image,
    "data: crop+flip+ToTensor+Normalize, 60k 28x28, one batch": make_batched,
    "data: DataLoader epoch, 60k 28x28, batch 64, shuffle": make_loader_epoch,
    "data vs Pillow: Resize(256), 100 PIL 375x500 RGB": lambda: _make_resize(as_pil=True),
    "data vs Pillow: Resize(256), 100 uint8 arrays 375x500x3": lambda: _make_resize(as_pil=False),
    "data vs Pillow: Resize+RandomCrop+flip+ToTensor+Normalize, 100 PIL": make_pil_pipeline,
}
