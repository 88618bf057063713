"""Local overrides, expressed only through the template's own environment variables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from i2v_local.stack.aws_faults import AwsFaults
from i2v_local.stack.template import DEFAULT_REGION

# Tiny waits for local runs (PollPolicy requires >= 1 s and min <= fine <= max).
FAST_POLL_POLICY: dict[str, Any] = {
    "initial_wait_seconds": 1,
    "min_wait_seconds": 1,
    "max_wait_seconds": 2,
    "fine_interval_seconds": 1,
    "error_backoff_seconds": 1,
    # Production sleeps short waits inside the poll invocation; a small budget here exercises both that and
    # the state machine's Wait loop.
    "inline_budget_seconds": 2,
}


class SimulatorLike(Protocol):
    """What the local stack needs of the GMI simulator (i2v_local.simulator.GmiSimulator)."""

    @property
    def base_url(self) -> str: ...

    @property
    def ca_bundle_path(self) -> str | None: ...


@dataclass
class LocalSettings:
    gmi_base_url: str | None = None
    api_key: str = "sim-key"
    ca_bundle_path: str | None = None
    poll_policy: dict[str, Any] | None = field(default_factory=lambda: dict(FAST_POLL_POLICY))
    job_deadline_seconds: int | None = None
    gmi_timeout_seconds: float | None = None
    # Any other template variable, e.g. {"DAILY_SUBMISSION_CAP": "2"}; unknown names are an error.
    environment: dict[str, str] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    stack_name: str = "ImageToVideoPipeline"
    # S3 notifications with versionId/sequencer and S3's key encoding (see s3events).
    realistic_s3_events: bool = True
    # Visibility timeout the pump receives with (None: the queue's own, 600 s in the template), so a
    # failed message comes back quickly locally.
    pump_visibility_timeout: int | None = 1
    # Run an SQS-triggered function's batches in parallel, up to its mapping's MaximumConcurrency, as Lambda
    # does (default: one at a time). Handlers share module state in one process (Powertools metrics are
    # flushed by whichever invocation ends first), so only tests that need the overlap turn this on.
    parallel_invocations: bool = False
    # AWS's own misbehaviour (duplicates, kills at timeout, throttles, previous-release inputs); None: none.
    aws_faults: AwsFaults | None = None

    @classmethod
    def for_simulator(cls, simulator: SimulatorLike, api_key: str | None = None, **options: Any) -> LocalSettings:
        key = api_key or getattr(getattr(simulator, "config", None), "api_key", None) or "sim-key"
        return cls(gmi_base_url=simulator.base_url, ca_bundle_path=simulator.ca_bundle_path, api_key=key, **options)

    def overrides(self) -> dict[str, str]:
        """Template environment variables to replace; everything else stays as synthesized."""
        values: dict[str, str] = {
            # The simulator serves videos from 127.0.0.1, a private address the real allowlist refuses.
            "VIDEO_HOST_ALLOWLIST": "127.0.0.1,localhost",
            "ALLOW_PRIVATE_VIDEO_ADDRESSES": "true",
        }
        if self.gmi_base_url:
            values["GMI_BASE_URL"] = self.gmi_base_url
        if self.poll_policy is not None:
            values["POLL_POLICY"] = json.dumps(self.poll_policy, separators=(",", ":"))
        if self.job_deadline_seconds is not None:
            values["JOB_DEADLINE_SECONDS"] = str(self.job_deadline_seconds)
        if self.gmi_timeout_seconds is not None:
            values["GMI_TIMEOUT_SECONDS"] = str(self.gmi_timeout_seconds)
        return values | self.environment

    def secret_string(self) -> str:
        # Same shape as the template's SecretStringTemplate; the functions accept it.
        return json.dumps({"api_key": self.api_key})
