"""Fault injection: names, the spec syntax, and the plan that decides which faults fire.

A fault spec is text: ``NAME [key=value ...]``, several separated by ``;``. Examples:
``post_429 retry_after=2 count=3``, ``video_404 scope=once``, ``job_failed message=boom``.

Sources, all of the same syntax:
- per run: ``GmiSimulator(faults=[...])``, ``--fault`` on the CLI, or the environment
  (``I2V_SIM_FAULTS``, ``I2V_SIM_FAULT_PROBS``, ``I2V_SIM_FAULT_SEED``; read when ``faults`` is not given).
  Without ``count`` a per-run fault fires on every matching event; with ``count=N`` on the next N.
- at runtime: ``sim.inject("post_429", count=2, retry_after=1)`` (count defaults to 1).
- per request: header ``X-Sim-Fault: <specs>`` (applies to that request only), or a marker in the
  prompt ``[sim:<spec>]`` (e.g. ``[sim:fail]``, ``[sim:post_429 count=2]``). A POST-level marker
  fires on the first ``count`` (default 1) POSTs of the same prompt + image path, so a client
  retrying the same submission eventually gets through.
- random: ``FaultPlan(probabilities={"get_500": 0.05}, seed=7)`` for a chaos soak.

Each fault has a kind saying when it is consumed: ``post`` (a POST), ``get`` (a status GET) or
``job`` (attached to the next job created; video faults act when that job's video is fetched).
"""

from __future__ import annotations

import os
import random
import re
import shlex
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    POST = "post"
    GET = "get"
    JOB = "job"


# name -> (kind, help). The help text is printed by `--list-faults`.
FAULTS: dict[str, tuple[Kind, str]] = {
    "post_429": (Kind.POST, "POST answers 429 with Retry-After (retry_after=S, 'none' omits it); no job"),
    "post_500": (Kind.POST, "POST answers 500 before any job is created"),
    "post_503": (Kind.POST, "POST answers 503 before any job is created (retry_after=S optional)"),
    "post_drop": (Kind.POST, "POST connection closed without a response; no job"),
    "post_refused": (Kind.POST, "POST answers status=N (403) with message=TEXT before any job is created"),
    "post_slow": (Kind.POST, "POST sleeps seconds=S first, then is handled normally (job created)"),
    "post_500_after_accept": (Kind.POST, "job created and counted, then 500 returned"),
    "post_503_after_accept": (Kind.POST, "job created and counted, then 503 returned"),
    "post_timeout_after_accept": (
        Kind.POST,
        "job created and counted; response delayed seconds=S (mode=sleep) or connection dropped (mode=drop)",
    ),
    "post_malformed_json": (Kind.POST, "job created; 200 with a truncated JSON body"),
    "post_3xx": (
        Kind.POST,
        "job created (created=no: none), then status=N (307) with Location target=URL (default: the POST's own "
        "URL, so a client that follows re-sends body and key)",
    ),
    "post_success": (Kind.POST, "POST waits for the render and answers status success with the outcome"),
    "get_429": (Kind.GET, "status GET answers 429 with Retry-After (retry_after=S)"),
    "get_500": (Kind.GET, "status GET answers 500"),
    "get_503": (Kind.GET, "status GET answers 503"),
    "get_404": (Kind.GET, "status GET answers 404 as if the request id were unknown"),
    "get_malformed_json": (Kind.GET, "status GET answers 200 with a truncated JSON body"),
    "get_slow": (Kind.GET, "status GET sleeps seconds=S before answering"),
    "get_drop": (Kind.GET, "status GET connection closed without a response"),
    "job_stuck": (Kind.JOB, "job stays processing forever"),
    "job_failed": (Kind.JOB, "job ends failed (message=TEXT)"),
    "job_cancelled": (Kind.JOB, "job ends cancelled"),
    "unknown_status": (Kind.JOB, "first gets=N (2) status GETs report status=NAME (paused), one GMI never documented"),
    "status_walk": (Kind.JOB, "first status GETs report statuses=A,B,... (created,dispatched), one per GET"),
    "answer_style": (
        Kind.JOB,
        "answer shapes: submit=queued|dispatched outcome=video_url|media_urls|list "
        "thumbnail=distinct|same|none failure=top|outcome|outcome_object|message (default: per model)",
    ),
    "success_without_outcome": (Kind.JOB, "success with outcome shape=missing|null|empty|blank_url"),
    "video_url_http": (Kind.JOB, "outcome.video_url uses plain http"),
    "video_url_foreign_host": (Kind.JOB, "outcome.video_url on another host (host=NAME)"),
    "video_redirect_private": (Kind.JOB, "video URL answers 302 to http://10.0.0.1/... (target=URL)"),
    "video_redirect_foreign": (Kind.JOB, "video URL answers 302 to another public host (target=URL)"),
    "video_redirect_ok": (Kind.JOB, "video URL answers 302 to a working URL on the simulator"),
    "video_403": (Kind.JOB, "video URL answers 403 (scope=always|once: once = first URL expires)"),
    "video_404": (Kind.JOB, "video URL answers 404 (scope=always|once)"),
    "video_truncated": (Kind.JOB, "video body shorter than Content-Length (fraction=0.5), then close"),
    "video_reset": (Kind.JOB, "TCP reset mid-body (fraction=0.5), delay=0.5 s after the partial body"),
    "video_slow": (Kind.JOB, "video body throttled to bytes_per_second=N"),
    "video_size": (Kind.JOB, "serve a synthetic video of bytes=N instead of the render"),
    "video_junk": (Kind.JOB, "video URL serves bytes=N (200000) of an HTML error page as video/mp4"),
    "thumbnail_404": (Kind.JOB, "the outcome's thumbnail_image_url answers 404"),
    "image_fetch_fails": (Kind.JOB, "job fails as if image_url answered status=N (403)"),
}

# Short spellings (mainly for prompt markers): alias -> (name, implied params).
ALIASES: dict[str, tuple[str, dict[str, str]]] = {
    "429": ("post_429", {}),
    "500": ("post_500", {}),
    "503": ("post_503", {}),
    "fail": ("job_failed", {}),
    "failed": ("job_failed", {}),
    "stuck": ("job_stuck", {}),
    "cancel": ("job_cancelled", {}),
    "cancelled": ("job_cancelled", {}),
    "dispatched": ("unknown_status", {"status": "dispatched"}),  # first GETs say dispatched (gets=N)
    "submit_dispatched": ("answer_style", {"submit": "dispatched"}),
    "unknown": ("unknown_status", {}),
    "media_urls": ("answer_style", {"outcome": "media_urls"}),
    "poster": ("answer_style", {"thumbnail": "distinct"}),
    "walk": ("status_walk", {}),
    "junk": ("video_junk", {}),
    "500_after_accept": ("post_500_after_accept", {}),
    "redirect": ("post_3xx", {}),
    "no_outcome": ("success_without_outcome", {}),
    "timeout_after_accept": ("post_timeout_after_accept", {}),
    "post_drop_after_accept": ("post_timeout_after_accept", {"mode": "drop"}),
    "video_403_once": ("video_403", {"scope": "once"}),
    "video_404_once": ("video_404", {"scope": "once"}),
    "video_expired_once": ("video_403", {"scope": "once"}),
    "image_403": ("image_fetch_fails", {"status": "403"}),
    "image_404": ("image_fetch_fails", {"status": "404"}),
}

_MARKER = re.compile(r"\[sim:([^\]]+)\]")


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultSpec:
    name: str
    params: Mapping[str, str] = field(default_factory=dict)
    count: int | None = None

    @property
    def kind(self) -> Kind:
        return FAULTS[self.name][0]

    def get(self, key: str, default: str) -> str:
        return self.params.get(key, default)

    def num(self, key: str, default: float) -> float:
        try:
            return float(self.params[key])
        except (KeyError, ValueError):
            return default

    def __str__(self) -> str:
        parts = [self.name, *(f"{k}={v}" for k, v in self.params.items())]
        if self.count is not None:
            parts.append(f"count={self.count}")
        return " ".join(parts)


def parse_spec(text: str, **extra: object) -> FaultSpec:
    """Parse one ``NAME [key=value ...]`` spec; keyword arguments add or override params."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise FaultSpecError(f"bad fault spec {text!r}: {exc}") from exc
    if not tokens:
        raise FaultSpecError("empty fault spec")
    name = tokens[0].strip().lower()
    params: dict[str, str] = {}
    if name in ALIASES:
        name, implied = ALIASES[name]
        params.update(implied)
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {tokens[0]!r}; known: {', '.join(sorted(FAULTS))}")
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep:
            raise FaultSpecError(f"bad fault parameter {token!r} in {text!r} (expected key=value)")
        params[key.strip()] = value
    params.update({k: str(v) for k, v in extra.items() if v is not None and k != "count"})
    count: int | None = None
    raw_count = params.pop("count", None)
    if "count" in extra and extra["count"] is not None:
        raw_count = str(extra["count"])
    if raw_count is not None:
        try:
            count = int(raw_count)
        except ValueError as exc:
            raise FaultSpecError(f"count must be an integer in {text!r}") from exc
    return FaultSpec(name=name, params=params, count=count)


def parse_specs(text: str) -> list[FaultSpec]:
    """Several specs separated by ';' (the header and env var form)."""
    return [parse_spec(part) for part in text.split(";") if part.strip()]


def prompt_markers(prompt: str) -> list[FaultSpec]:
    """Specs written as ``[sim:...]`` in a prompt; unknown markers are ignored (they are just text)."""
    specs: list[FaultSpec] = []
    for match in _MARKER.finditer(prompt):
        try:
            specs.extend(parse_specs(match.group(1)))
        except FaultSpecError:
            continue
    return specs


def as_spec(value: FaultSpec | str) -> FaultSpec:
    return value if isinstance(value, FaultSpec) else parse_spec(value)


class _Rule:
    __slots__ = ("remaining", "spec")

    def __init__(self, spec: FaultSpec, remaining: int | None) -> None:
        self.spec = spec
        self.remaining = remaining


class FaultPlan:
    """Per-run and runtime fault rules plus random faults; thread-safe, consumed in order."""

    def __init__(
        self,
        specs: Iterable[FaultSpec | str] = (),
        *,
        probabilities: Mapping[str, float] | None = None,
        seed: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._random: list[tuple[FaultSpec, float]] = [
            (parse_spec(text), p) for text, p in (probabilities or {}).items()
        ]
        self._rng = random.Random(seed)  # noqa: S311 - reproducible chaos, not crypto
        # (fingerprint, spec text) -> times a POST-level prompt marker already fired.
        self._marker_hits: dict[tuple[str, str], int] = {}
        for spec in specs:
            self.add(as_spec(spec))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, seed: int | None = None) -> FaultPlan:
        """I2V_SIM_FAULTS="spec; spec", I2V_SIM_FAULT_PROBS="spec=p; spec=p", I2V_SIM_FAULT_SEED=int."""
        env = os.environ if environ is None else environ
        probabilities: dict[str, float] = {}
        for item in env.get("I2V_SIM_FAULT_PROBS", "").split(";"):
            if item.strip():
                spec, _, prob = item.rpartition("=")
                probabilities[spec.strip()] = float(prob)
        env_seed = env.get("I2V_SIM_FAULT_SEED")
        return cls(
            parse_specs(env.get("I2V_SIM_FAULTS", "")),
            probabilities=probabilities,
            seed=seed if seed is not None else (int(env_seed) if env_seed else None),
        )

    def add(self, spec: FaultSpec) -> None:
        """A rule firing on the next spec.count matching events (every one when count is None)."""
        with self._lock:
            self._rules.append(_Rule(spec, spec.count))

    def inject(self, fault: FaultSpec | str, count: int | None = 1, **params: object) -> FaultSpec:
        spec = parse_spec(fault, **params) if isinstance(fault, str) else fault
        spec = FaultSpec(spec.name, spec.params, count)
        self.add(spec)
        return spec

    def set_probability(self, fault: str, probability: float) -> None:
        with self._lock:
            self._random.append((parse_spec(fault), probability))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._random.clear()
            self._marker_hits.clear()

    def take(self, kind: Kind) -> list[FaultSpec]:
        """Faults firing for one event of this kind (consumes counted rules)."""
        fired: list[FaultSpec] = []
        with self._lock:
            for rule in self._rules:
                if rule.spec.kind != kind or rule.remaining == 0:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                fired.append(rule.spec)
            self._rules = [r for r in self._rules if r.remaining != 0]
            fired.extend(spec for spec, p in self._random if spec.kind == kind and self._rng.random() < p)
        return fired

    def take_marker(self, fingerprint: str, spec: FaultSpec) -> bool:
        """Whether a POST-level prompt marker fires for this submission (first `count`, default 1)."""
        limit = 1 if spec.count is None else spec.count
        key = (fingerprint, str(spec))
        with self._lock:
            hits = self._marker_hits.get(key, 0)
            if hits >= limit:
                return False
            self._marker_hits[key] = hits + 1
            return True
