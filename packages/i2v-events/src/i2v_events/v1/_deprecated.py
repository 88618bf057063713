"""Deprecated names of v1, kept for 1.x because `i2v_events.v1` exported them; removed in 2.0.

pixverse-v5.5's setting values, from before the model catalog: Submitted's `settings` has been an open object
since then (each model sends its own documented parameters), and no model of the package refers to these enums.
Reading one from `i2v_events.v1` warns (DeprecationWarning).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AspectRatio", "Duration", "Quality", "Style", "ThinkingType"]


class Duration(StrEnum):
    FIVE = "5"
    EIGHT = "8"
    TEN = "10"


class AspectRatio(StrEnum):
    WIDE = "16:9"
    TALL = "9:16"
    SQUARE = "1:1"
    CLASSIC = "4:3"
    CLASSIC_TALL = "3:4"


class Quality(StrEnum):
    Q360 = "360p"
    Q540 = "540p"
    Q720 = "720p"
    Q1080 = "1080p"


class Style(StrEnum):
    NONE = "none"
    ANIME = "anime"
    ANIMATION_3D = "3d_animation"
    CLAY = "clay"
    COMIC = "comic"
    CYBERPUNK = "cyberpunk"


class ThinkingType(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    AUTO = "auto"
