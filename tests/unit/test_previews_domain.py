"""The previews' decisions: which frame is the poster, how the animation is sampled and shrunk until it fits."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from i2v.adapters.media import _animation, _Sample
from i2v.domain.previews import (
    FIT_LADDER,
    MAX_PREVIEW_BYTES,
    FrameStats,
    every_nth,
    pick_poster,
    preview_keys,
    scaled,
)


def _frame(seconds: float, mean: float, stddev: float) -> FrameStats:
    return FrameStats(seconds, mean, stddev)


def test_the_poster_is_the_first_frame_that_is_not_blank() -> None:
    frames = [_frame(0.0, 2, 1), _frame(0.1, 30, 5), _frame(0.2, 120, 40), _frame(0.3, 120, 60)]
    assert pick_poster(frames) == 2  # black, then a low-contrast fade, then the picture


@pytest.mark.parametrize(
    ("mean", "stddev", "blank"),
    [(0, 0, True), (8, 20, True), (250, 20, True), (128, 5, True), (128, 12, False), (60, 30, False)],
)
def test_blank_means_flat_or_nearly_black_or_white(mean: float, stddev: float, blank: bool) -> None:
    assert _frame(0, mean, stddev).blank is blank


def test_when_every_frame_is_blank_the_most_detailed_one_wins() -> None:
    assert pick_poster([_frame(0, 5, 1), _frame(0.1, 5, 9), _frame(0.2, 250, 3)]) == 1
    with pytest.raises(ValueError, match="no frame"):
        pick_poster([])


def test_sizes_keep_the_ratio_even_and_never_grow() -> None:
    assert scaled(1920, 1080, 320) == (320, 180)
    assert scaled(1080, 1920, 320) == (320, 568)
    assert scaled(160, 90, 320) == (160, 90)
    assert scaled(333, 101, 320)[1] % 2 == 0


def test_sampling_keeps_about_the_target_rate() -> None:
    assert every_nth(40, 10, 10) == list(range(40))
    assert every_nth(40, 10, 5) == list(range(0, 40, 2))
    assert every_nth(10, 10, 4) == [0, 2, 5, 8]  # every 2.5th frame, rounded
    assert every_nth(0, 10, 5) == []


def test_keys_sit_beside_the_video_apart_from_gmis_poster() -> None:
    assert preview_keys("videos/cat-abc.mp4") == ("videos/cat-abc.frame.jpg", "videos/cat-abc.preview.webp")
    assert ".poster." not in "".join(preview_keys("videos/cat-abc.webm"))


def test_a_preview_too_big_for_its_budget_is_shrunk_down_the_ladder_until_it_fits() -> None:
    # Noise does not compress: at the first rung 40 frames of 320x180 are far over 500 KB.
    clip = [_Sample(i / 10, Image.frombytes("RGB", (320, 180), os.urandom(320 * 180 * 3))) for i in range(40)]
    encoded, frames, fps = _animation(clip)
    assert len(encoded.data) <= MAX_PREVIEW_BYTES
    assert (encoded.width, fps) != (FIT_LADDER[0][0], FIT_LADDER[0][1])  # not the first rung: it had to shrink
    assert frames > 1
    with Image.open(io.BytesIO(encoded.data)) as written:
        assert written.is_animated
