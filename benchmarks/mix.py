"""The reference mix of GMI generation times that the polling benchmark replays: every catalog model, per time class.

A job's class is what the production policy learns per: its model and its time class
(`CatalogModel.time_class_fields()`, resolution x duration for most models). The classes come from the catalog:
each time-class field's documented values (durations limited to the default and 5/8/10 s, the lengths people ask
for; ranges such as 1-15 s would otherwise make dozens of classes), combinations the model refuses left out (its
own validator decides: no 10 s at 1080p for pixverse-v5.5, 1080P only at 6 s for Hailuo).

GMI publishes no generation times. The medians are assumptions anchored on the one observation we have
(pixverse-v5.5-i2v 540p / 5 s: about 116 s): compute grows with the frame height and sub-linearly with the
length (fixed per-job overheads), and models named "fast" or "turbo" are assumed 0.6x. Within a class, times
spread lognormally (queue wait and GPU contention multiply, they do not add a constant).
"""

from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError

from i2v.domain import catalog
from i2v.domain.catalog.base import as_text

BASE_MEDIAN_SECONDS = 116.0  # pixverse-v5.5-i2v, 540p / 5 s
BASE_HEIGHT, BASE_SECONDS = 540, 5
DURATION_EXPONENT = 0.68  # 8 s = 1.38x, 10 s = 1.6x the 5 s median
FAST_FACTOR = 0.6  # "fast" / "turbo" models
UNSET_HEIGHT = 720  # a resolution left to GMI's default is assumed 720p
MIN_SECONDS, MAX_SECONDS = 20.0, 900.0
# The deployment default gets this share of the jobs; the other models split the rest evenly.
DEFAULT_MODEL_SHARE = 0.40
# Within a model, each documented default value of a time-class field weighs this much more than another value.
DEFAULT_VALUE_WEIGHT = 3.0
COMMON_DURATIONS = frozenset({"5", "8", "10"})
# Within-class spread (sigma of ln seconds): p5-p95 of one class is x0.66-x1.51 of its median.
DEFAULT_SIGMA = 0.25
SENSITIVITY_SIGMAS = (0.40, 0.55)


@dataclass(frozen=True)
class JobClass:
    model_id: str
    time_class: tuple[tuple[str, str], ...]  # (field, value as text), as catalog.time_class_of gives them
    median_seconds: float
    share: float

    @property
    def name(self) -> str:
        return f"{self.model_id} " + "/".join(f"{value}" for _, value in self.time_class)

    @property
    def height(self) -> int:
        return _height(self.model_id, dict(self.time_class))

    @property
    def seconds(self) -> int:
        return int(dict(self.time_class).get(catalog.get(self.model_id).DURATION_FIELD, BASE_SECONDS))


def _height(model_id: str, time_class: dict[str, str]) -> int:
    model = catalog.get(model_id)
    text = time_class.get(model.RESOLUTION_FIELD or "", "") or model.FIXED_RESOLUTION or ""
    if text.lower() == "4k":
        return 2160
    found = re.fullmatch(r"(\d+)[pP]", text)
    return int(found.group(1)) if found else UNSET_HEIGHT


def _field_values(model: type[catalog.CatalogModel], name: str) -> list[Any]:
    """The documented values of one time-class field (None = left to GMI's default, if the field allows it)."""
    prop = model.model_json_schema()["properties"][name]
    options = prop.get("anyOf", [prop])
    values: list[Any] = []
    for option in options:
        if option.get("type") == "null":
            values.append(None)
        elif "enum" in option:
            values += option["enum"]
        elif "minimum" in option and "maximum" in option:
            values += list(range(int(option["minimum"]), int(option["maximum"]) + 1))
    if name == model.DURATION_FIELD:
        default = as_text(prop.get("default"))
        values = [v for v in values if as_text(v) in COMMON_DURATIONS or as_text(v) == default]
    return values


def _accepts(model: type[catalog.CatalogModel], settings: dict[str, Any]) -> bool:
    try:
        model.model_validate({"prompt": "a reference job", **settings})
    except ValidationError:
        return False
    return True


@cache
def job_classes() -> tuple[JobClass, ...]:
    ids = catalog.ids()
    others = [m for m in ids if m != catalog.DEFAULT_MODEL_ID]
    classes = []
    for model_id in ids:
        model = catalog.get(model_id)
        fields = model.time_class_fields()
        defaults = {name: model.model_fields[name].default for name in fields}
        combos = [
            dict(zip(fields, values, strict=True))
            for values in itertools.product(*(_field_values(model, name) for name in fields))
        ]
        combos = [c for c in combos if _accepts(model, {k: v for k, v in c.items() if v is not None})]
        weights = [math.prod(DEFAULT_VALUE_WEIGHT if c[n] == defaults[n] else 1.0 for n in fields) for c in combos]
        model_share = (
            DEFAULT_MODEL_SHARE if model_id == catalog.DEFAULT_MODEL_ID else (1 - DEFAULT_MODEL_SHARE) / len(others)
        )
        speed = FAST_FACTOR if re.search(r"fast|turbo", model_id, re.IGNORECASE) else 1.0
        for combo, weight in zip(combos, weights, strict=True):
            time_class = catalog.time_class_of(model_id, combo)
            seconds = int(time_class.get(model.DURATION_FIELD, BASE_SECONDS))
            median = (
                BASE_MEDIAN_SECONDS
                * speed
                * _height(model_id, time_class)
                / BASE_HEIGHT
                * (seconds / BASE_SECONDS) ** DURATION_EXPONENT
            )
            share = model_share * weight / sum(weights)
            classes.append(JobClass(model_id, tuple(time_class.items()), median, share))
    return tuple(classes)


@dataclass(frozen=True)
class ReferenceJob:
    job_class: JobClass
    arrival: float  # seconds since the start of the replay
    generation_seconds: float


def reference_mix(
    count: int, sigma: float = DEFAULT_SIGMA, seed: int = 20260101, mean_gap: float = 60.0, model: str | None = None
) -> list[ReferenceJob]:
    """`count` jobs arriving as a Poisson stream (one a minute on average), seeded; `model`: only that model's
    classes, at their shares within the model (a deployment that uses one model)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark input, not crypto
    classes = [c for c in job_classes() if model is None or c.model_id == model]
    weights = [c.share for c in classes]
    jobs, clock = [], 0.0
    for _ in range(count):
        clock += rng.expovariate(1.0 / mean_gap)
        cls = rng.choices(classes, weights)[0]
        seconds = rng.lognormvariate(math.log(cls.median_seconds), sigma)
        jobs.append(ReferenceJob(cls, clock, min(MAX_SECONDS, max(MIN_SECONDS, seconds))))
    return jobs


# ---- scenarios: how many jobs are in flight at once -----------------------------------------------------------


def one_at_a_time(jobs: list[ReferenceJob], gap: float = 2400.0) -> list[ReferenceJob]:
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
