"""The soak's plan, fixed by its seed before anything runs: which uploads are bad images, which S3
notifications are sent again, and which upload gets which GMI fault (i2v_local.soak runs it)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from i2v_local.stack.aws_faults import SOAK_RULES, FaultRule
from i2v_local.stack.driver import png_bytes

# Share of the good uploads given each fault (each fault at least once); one fault per upload.
FAULT_MIX: dict[str, float] = {
    # Refused submissions (429 and 503: nothing created; after a 503 GMI's list is read first), sent again.
    "post_503": 0.015,
    "post_429 retry_after=0": 0.03,
    # POSTs whose fate the client cannot know: flagged ambiguous, never sent again by the pipeline.
    "post_500": 0.01,
    "post_500_after_accept": 0.01,
    "post_timeout_after_accept seconds=2": 0.02,
    # GMI creates the job, then answers 503: found in GMI's request list before a second POST, paid once.
    "post_503_after_accept": 0.005,
    # Failing status checks (retried by the poll loop).
    "get_500": 0.0125,
    "get_503": 0.0125,
    "get_429 retry_after=0": 0.02,
    # The first video download is cut short (the soak heals it after the first attempt).
    "video_truncated fraction=0.5": 0.02,
}


@dataclass(frozen=True)
class SoakConfig:
    uploads: int = 500
    seed: int = 7
    duplicate_share: float = 0.12
    bad_image_share: float = 0.02
    max_in_flight: int = 40
    video_bytes: int = 256 * 1024
    # GMI's time in queue and in processing per job (seconds): a job takes a few looks, so a duplicated or
    # redelivered look can fork its chain while it still runs (with zero timing every job ends at its first look).
    gmi_seconds: tuple[float, float] = (1.0, 9.0)
    timeout_seconds: float = 1800.0
    stall_seconds: float = 180.0
    faults: Mapping[str, float] = field(default_factory=lambda: dict(FAULT_MIX))
    # AWS's own faults (i2v_local.stack.aws_faults), seeded by `seed`; empty: none.
    aws_faults: Mapping[str, FaultRule] = field(default_factory=lambda: dict(SOAK_RULES))


# Images GMI cannot use: rejected by submit (not an image, empty) or by the simulator (corrupt PNG).
BAD_IMAGES: tuple[tuple[str, bytes], ...] = (
    ("not-an-image", b"this is plain text, not a picture\n" * 4),
    ("empty", b""),
    ("corrupt-png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 64),
)


@dataclass
class SoakPlan:
    uploads: list[tuple[str, bytes, bool]]  # (key, body, bad image)
    faults: dict[str, str]  # upload key -> the fault spec it is given
    duplicates: set[str]  # upload keys whose S3 notification is sent again


def plan_uploads(config: SoakConfig) -> SoakPlan:
    """Everything random, drawn from the seed before anything runs: bad images, duplicates, faults."""
    rng = random.Random(config.seed)  # noqa: S311 - reproducible chaos, not crypto
    n = config.uploads
    bad = set(rng.sample(range(n), min(n, max(1, round(n * config.bad_image_share)))))
    duplicates = rng.sample(range(n), min(n, math.ceil(n * config.duplicate_share)))
    good = [index for index in range(n) if index not in bad]
    wanted = [spec for spec, share in config.faults.items() for _ in range(max(1, round(share * len(good))))]
    faulted = dict(zip(rng.sample(good, min(len(good), len(wanted))), wanted, strict=False))
    shades = [png_bytes(64, 48, shade) for shade in (0, 60, 120, 180)]
    plan = SoakPlan([], {}, set())
    for index in range(n):
        key = f"incoming/soak/{index:05d}.png"
        if index in bad:
            name, body = BAD_IMAGES[index % len(BAD_IMAGES)]
            key = f"incoming/soak/{index:05d}-{name}.png"
            plan.uploads.append((key, body, True))
        else:
            plan.uploads.append((key, shades[index % len(shades)], False))
        if index in faulted:
            plan.faults[key] = faulted[index]
        if index in duplicates:
            plan.duplicates.add(key)
    return plan
