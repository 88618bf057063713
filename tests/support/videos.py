"""The sample videos of the previews tests (they live in i2v_local.media_samples: the benchmark makes them too)."""

from i2v_local.media_samples import detailed_image, detailed_png, make_mp4

__all__ = ["detailed_image", "detailed_png", "make_mp4"]
