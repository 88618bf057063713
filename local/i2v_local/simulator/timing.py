"""How long jobs stay queued and processing: fixed values or a seeded lognormal, scaled by time_scale."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Delay:
    """A fixed delay, or a lognormal one (median, sigma) clamped to [minimum, maximum]."""

    fixed: float | None = 0.0
    median: float = 0.0
    sigma: float = 0.0
    minimum: float = 0.0
    maximum: float = math.inf

    @classmethod
    def constant(cls, seconds: float) -> Delay:
        return cls(fixed=seconds)

    @classmethod
    def lognormal(cls, median: float, sigma: float, minimum: float = 0.0, maximum: float = math.inf) -> Delay:
        return cls(fixed=None, median=median, sigma=sigma, minimum=minimum, maximum=maximum)

    def sample(self, rng: random.Random) -> float:
        if self.fixed is not None:
            return max(0.0, self.fixed)
        # lognormvariate(mu, sigma) has median exp(mu), so mu = ln(median).
        value = rng.lognormvariate(math.log(max(self.median, 1e-9)), self.sigma)
        return min(self.maximum, max(self.minimum, value))


@dataclass(frozen=True)
class Timing:
    """Job timing. time_scale multiplies every sampled delay (0 gives the zero-time mode)."""

    queued: Delay = field(default_factory=lambda: Delay.constant(1.0))
    processing: Delay = field(default_factory=lambda: Delay.constant(4.0))
    # Latency added to every API response (POST and GET), e.g. to benchmark a slow control plane.
    api_latency: Delay = field(default_factory=lambda: Delay.constant(0.0))
    time_scale: float = 1.0
    seed: int | None = None

    @classmethod
    def zero(cls) -> Timing:
        """Jobs finish as soon as their video is rendered: the next GET afterwards reports success."""
        return cls(queued=Delay.constant(0.0), processing=Delay.constant(0.0))

    @classmethod
    def fixed(cls, queued: float, processing: float) -> Timing:
        return cls(queued=Delay.constant(queued), processing=Delay.constant(processing))


class TimingSampler:
    """Thread-safe sampling with one seeded RNG, so a benchmark run is reproducible."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self._rng = random.Random(timing.seed)  # noqa: S311 - reproducible timing, not crypto
        self._lock = threading.Lock()

    def _draw(self, delay: Delay) -> float:
        with self._lock:
            return delay.sample(self._rng) * self.timing.time_scale

    def queued(self) -> float:
        return self._draw(self.timing.queued)

    def processing(self) -> float:
        return self._draw(self.timing.processing)

    def api_latency(self) -> float:
        return self._draw(self.timing.api_latency)
