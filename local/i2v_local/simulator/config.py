"""The simulator's settings and what its routes share (one object, handed to the routes at start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import DEFAULT_MODEL
from .faults import FaultPlan
from .jobs import JobStore
from .models import KNOWN_PRICES
from .timing import Timing, TimingSampler


@dataclass
class SimulatorConfig:
    api_key: str = "sim-key"
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    timing: Timing = field(default_factory=Timing)
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    org_id: str = "pixverse"
    # model id -> the price_info GET /models/{id} serves (models.KNOWN_PRICES by default).
    prices: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(KNOWN_PRICES))
    # The seed marks duration/aspect_ratio/quality "Required" yet gives defaults; strict enforces the former.
    strict_required: bool = False
    image_fetch_timeout: float = 10.0
    render_workers: int = 2
    fps: int = 10
    # When set, every job serves a synthetic video of this many bytes instead of a render.
    video_size_bytes: int | None = None
    # Upper bound of every deliberate sleep, so a hanging request can never outlive a test.
    max_hang_seconds: float = 30.0
    # Default delay of post_timeout_after_accept / get_slow / post_slow when the spec has no seconds=.
    hang_seconds: float = 15.0
    foreign_video_host: str = "storage.attacker.invalid"
    # The request list's largest page (GMI documents `total` but no paging; `page`/`page_size` are ours).
    list_page_size: int = 20
    verbose: bool = False


@dataclass(frozen=True)
class SimContext:
    """Everything the routes may touch: the simulator builds it at start and keeps the rest to itself."""

    config: SimulatorConfig
    faults: FaultPlan
    store: JobStore
    sampler: TimingSampler
    # name -> (HTTP status, body, content type), served at /images/{name}
    images: dict[str, tuple[int, bytes, str]]
    base_url: Callable[[], str]
    # Called once for every POST that created a job (the simulator's post_count).
    count_post: Callable[[], None]
