"""What the price of one video depends on besides the replayed looks: the kind of video (its assumed MP4 size),
the code's levers and the stack's facts (CostModel), and the priced line every cost function returns (CostLine)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from benchmarks import mix
from benchmarks.bill_facts import StackFacts, deployed_facts
from benchmarks.bill_volume import VOLUMES, Volume
from i2v.domain.catalog import DEFAULT_MODEL_ID

PROGRESS_CHANGES = 2  # a waiting job's GMI status changes at most twice (queued, then processing)


@dataclass(frozen=True)
class VideoKind:
    name: str
    job_class: str  # as in benchmarks.mix
    video_bytes: int  # assumed size of GMI's MP4


KINDS = (
    VideoKind("540p / 5 s", f"{DEFAULT_MODEL_ID} 540p/5", 4 * 1024 * 1024),
    VideoKind("1080p / 5 s", f"{DEFAULT_MODEL_ID} 1080p/5", 16 * 1024 * 1024),
)
BASE_VIDEO_BYTES = 4 * 1024 * 1024  # 540p / 5 s


@cache
def _classes_by_name() -> dict[str, mix.JobClass]:
    return {c.name: c for c in mix.job_classes()}


@cache
def kind_of(job_class: str) -> VideoKind:
    """Any class of the mix: its MP4 assumed to grow with pixels x seconds from 4 MiB at 540p / 5 s."""
    known = _classes_by_name().get(job_class)
    factor = (known.height / 540) ** 2 * known.seconds / 5 if known else 1.0
    return VideoKind(job_class, job_class, int(BASE_VIDEO_BYTES * factor))


@dataclass(frozen=True)
class CostModel:
    """What the code does that the price depends on, beyond the replayed polls (the levers of issues 14 and 25)."""

    poll_memory_mb: int | None = None  # None: as in the synthesized template
    write_every_poll: bool = False  # True: every waiting poll updated the job record (before issue 14)
    facts: StackFacts | None = None  # None: the synthesized template's (benchmarks.bill_facts.deployed_facts)
    videos_per_month: int = VOLUMES[0]
    init_ms: tuple[tuple[str, float], ...] = ()  # measured import + init per function (benchmark 3)

    @property
    def stack(self) -> StackFacts:
        return self.facts if self.facts is not None else deployed_facts()

    def volume(self, span_seconds: float) -> Volume:
        return Volume(self.videos_per_month, span_seconds, dict(self.init_ms))


def progress_writes(polls: float, model: CostModel) -> float:
    """Record updates by the waiting polls of a job that GMI finished by its `polls`-th poll."""
    waiting = max(0.0, polls - 1)
    return waiting if model.write_every_poll else min(waiting, PROGRESS_CHANGES)


@dataclass
class CostLine:
    item: str
    quantity: float
    unit: str
    dollars: float
