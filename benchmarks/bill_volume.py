"""How the volume of a month changes what a video costs (issue 25): cold starts and their INIT time, X-Ray's
sampling, reads of the GMI key, at a given number of videos a month, with the assumptions they rest on (stated on
the cost page)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

MONTH_SECONDS = 30 * 24 * 3600
VOLUMES = (100, 100_000)  # videos a month: a small user, a busy one (issue 25)

KEEP_WARM_SECONDS = 300  # an idle execution environment is assumed reclaimed after 5 min (AWS publishes none)
RUNTIME_INIT_MS = 80.0  # the Python runtime's own start, before our import (not measured offline)
INIT_MS_FALLBACK = 250.0  # import + init when benchmark 3 did not run
SECRET_CACHE_SECONDS = 300  # i2v.adapters.secrets: a warm instance reads the key again after 5 min
# X-Ray: Lambda's active tracing records the first request each second and 5 % of the others (per function).
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05
XRAY_RETRIEVALS_PER_TRACE = 1.0  # an upper bound: every recorded trace read once (console, API)
# Functions that read the GMI key from Secrets Manager (cached per instance); each read is one KMS Decrypt too.
SECRET_READERS = ("submit", "watch", "poll", "complete")


@dataclass(frozen=True)
class Volume:
    """A month of `videos` spread evenly (Poisson arrivals), each watched for about `span_seconds`."""

    videos: int
    span_seconds: float = 180.0
    init_ms: Mapping[str, float] = field(default_factory=dict)  # measured import + init per function

    @property
    def jobs_per_second(self) -> float:
        return self.videos / MONTH_SECONDS

    def cold_chance(self, function: str) -> float:
        """The chance that no other job left a warm instance of `function` (its span + the keep-warm time)."""
        window = KEEP_WARM_SECONDS + (self.span_seconds if function in ("watch", "poll") else 0.0)
        return math.exp(-self.jobs_per_second * window)

    def init_seconds(self, function: str) -> float:
        return (self.init_ms.get(function, INIT_MS_FALLBACK) + RUNTIME_INIT_MS) / 1000

    def sampled(self, roots_per_job: float) -> float:
        """Share of a function's root requests X-Ray records at this volume (reservoir 1/s + 5 %)."""
        rate = self.jobs_per_second * roots_per_job
        if rate <= 0:
            return 1.0
        reservoir = 1 - math.exp(-rate * 1.0 / XRAY_RESERVOIR_PER_SECOND)  # P(at least one request in a second)
        recorded = reservoir + XRAY_FIXED_RATE * (rate - reservoir)
        return min(1.0, recorded / rate)

    def secret_reads(self, function: str, invocations: float, cold: float) -> float:
        """Reads of the GMI key per job by `function`: at a cold start; at the job's first invocation of a warm
        instance whose copy is older than the cache period (the previous job came that long ago); and, for the
        function that watches, every cache period of a long watch, shared by the jobs watched at once."""
        if function not in SECRET_READERS or invocations <= 0:
            return 0.0
        gap = 1 / self.jobs_per_second if self.jobs_per_second else float(MONTH_SECONDS)
        warm = (1 - cold) * min(1.0, gap / SECRET_CACHE_SECONDS)
        if function in ("watch", "poll"):
            concurrent = max(1.0, self.jobs_per_second * self.span_seconds)
            warm += max(0.0, self.span_seconds - SECRET_CACHE_SECONDS) / SECRET_CACHE_SECONDS / concurrent
        return min(invocations, cold + warm)
