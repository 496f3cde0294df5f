"""Resizing layers: Upsample (and its two fixed-mode forms) and the pixel shuffles, over ``nn.functional.sampling``."""

from ...arguments import positive_int
from ..functional import sampling as S
from ..module import Module
from .functional_layer import FunctionalLayer


class Upsample(Module):
    """Resize (N, C, *spatial) to ``size`` or by ``scale_factor`` with ``mode`` (nearest, nearest-exact, linear,
    bilinear, bicubic, trilinear, area): see ``nn.functional.interpolate``."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: exactly one of size or scale_factor must be given")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return S.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        head = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{head}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour resize of (N, C, H, W): ``Upsample(size, scale_factor, mode='nearest')``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear resize of (N, C, H, W) with corners aligned: ``Upsample(..., mode='bilinear', align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(FunctionalLayer):
    """(*, C r^2, H, W) -> (*, C, H r, W r): channels become space (sub-pixel convolution's last step)."""

    _fn = staticmethod(S.pixel_shuffle)

    def __init__(self, upscale_factor):
        super().__init__(upscale_factor=positive_int("PixelShuffle", "upscale_factor", upscale_factor))


class PixelUnshuffle(FunctionalLayer):
    """(*, C, H r, W r) -> (*, C r^2, H, W): space becomes channels (the inverse of PixelShuffle)."""

    _fn = staticmethod(S.pixel_unshuffle)

    def __init__(self, downscale_factor):
        super().__init__(downscale_factor=positive_int("PixelUnshuffle", "downscale_factor", downscale_factor))
