"""The reference mix of GMI generation times that the polling benchmark replays.

GMI's generation time is dominated by compute that grows with resolution x length, plus a queue wait that
varies with load. So each class (quality x duration) gets its own median, and jobs of one class spread around
it lognormally (the queue wait and GPU contention multiply, they do not add a constant). The whole mix has
a median of about 150 s and is clamped to the 33-540 s range observed for pixverse-v5.5-i2v.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# Relative compute of each quality and duration against 540p/5 s (sub-linear: fixed per-job overheads).
QUALITY_FACTOR = {"360p": 0.65, "540p": 1.0, "720p": 1.35, "1080p": 2.0}
DURATION_FACTOR = {"5": 1.0, "8": 1.35, "10": 1.6}
# How often each setting is asked for (540p/5 s is the deployment default).
QUALITY_SHARE = {"360p": 0.10, "540p": 0.45, "720p": 0.30, "1080p": 0.15}
DURATION_SHARE = {"5": 0.60, "8": 0.25, "10": 0.15}
BASE_MEDIAN_SECONDS = 116.0  # 540p / 5 s
MIN_SECONDS, MAX_SECONDS = 33.0, 540.0
# Within-class spread (sigma of ln seconds): p5-p95 of one class is x0.66-x1.51 of its median.
DEFAULT_SIGMA = 0.25
SENSITIVITY_SIGMAS = (0.40, 0.55)


@dataclass(frozen=True)
class JobClass:
    quality: str
    duration: str

    @property
    def name(self) -> str:
        return f"{self.quality}/{self.duration}s"

    @property
    def median_seconds(self) -> float:
        return BASE_MEDIAN_SECONDS * QUALITY_FACTOR[self.quality] * DURATION_FACTOR[self.duration]

    @property
    def share(self) -> float:
        return QUALITY_SHARE[self.quality] * DURATION_SHARE[self.duration]


def job_classes() -> list[JobClass]:
    # The model offers no 10 s video at 1080p (README, settings per image).
    return [JobClass(q, d) for q in QUALITY_FACTOR for d in DURATION_FACTOR if not (q == "1080p" and d == "10")]


@dataclass(frozen=True)
class ReferenceJob:
    job_class: JobClass
    arrival: float  # seconds since the start of the replay
    generation_seconds: float


def reference_mix(
    count: int, sigma: float = DEFAULT_SIGMA, seed: int = 20260101, mean_gap: float = 60.0
) -> list[ReferenceJob]:
    """`count` jobs arriving as a Poisson stream (one a minute on average), seeded."""
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark input, not crypto
    classes = job_classes()
    weights = [c.share for c in classes]
    jobs, clock = [], 0.0
    for _ in range(count):
        clock += rng.expovariate(1.0 / mean_gap)
        cls = rng.choices(classes, weights)[0]
        seconds = rng.lognormvariate(math.log(cls.median_seconds), sigma)
        jobs.append(ReferenceJob(cls, clock, min(MAX_SECONDS, max(MIN_SECONDS, seconds))))
    return jobs


# ---- scenarios: how many jobs are in flight at once -----------------------------------------------------------


def one_at_a_time(jobs: list[ReferenceJob], gap: float = 1200.0) -> list[ReferenceJob]:
    """The same jobs, `gap` seconds apart: longer than any job (MAX_SECONDS + lag), so one is in flight at a time."""
    return [ReferenceJob(job.job_class, (index + 1) * gap, job.generation_seconds) for index, job in enumerate(jobs)]


def with_bursts(
    jobs: list[ReferenceJob], size: int, bursts: int, per_second: float = 2.0
) -> tuple[list[ReferenceJob], list[int]]:
    """The stream with `bursts` runs of `size` consecutive jobs re-timed as bursts: submitted `per_second` a
    second (the submit event source's concurrency of 2, about a second each) from the first one's arrival, on
    the history the stream left. Returns the jobs and the indices of the burst jobs."""
    out, indices = list(jobs), []
    segment = len(jobs) // bursts
    for number in range(bursts):
        first = (number + 1) * segment - size  # each burst ends a segment: the stream before it is its warm-up
        start = out[first].arrival
        for offset in range(size):
            job = out[first + offset]
            out[first + offset] = ReferenceJob(job.job_class, start + offset / per_second, job.generation_seconds)
            indices.append(first + offset)
    return out, indices
