"""One construct per concern; `ImageToVideoPipeline` (pipeline.py) wires them together."""

from i2v_infra.constructs.pipeline import ImageToVideoPipeline

__all__ = ["ImageToVideoPipeline"]
