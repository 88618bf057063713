"""The soak's judgements of the chains of looks: forked chains, and looks beyond what the poll policy makes.

A chain is the watch messages of one Watch task (named by a short hash of its task token: a token is never
printed or stored). A fork: two different messages (two MessageIds) on the watch queue for the same
(job_id, chain, look), i.e. two successors of one look, so two live chains of looks for one job. `look` is the
message's `look` field read as the watch function reads it (WatchMessage.look): the state machine's own message
has none and is look 0, whatever its state's `poll.poll_count` (the Poll task may have looked before Watch).
A duplicate delivery of one message (same MessageId) is not a fork; what the look then sends is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from i2v.domain.polling import Expectation, PollPolicy, next_wait_seconds, wait_before_deadline
from i2v.domain.record import JobRecord
from i2v.domain.workflow import WatchMessage

Look = tuple[str, str, int]  # (job_id, chain, look)
FIRST_LOOK: int = WatchMessage.model_fields["look"].default  # the state machine's own message carries none


def chain_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Start:
    """What the policy needs of a job: its execution's input."""

    submitted_at: float
    deadline_at: float
    expectation: Expectation | None
    first_wait: int

    @classmethod
    def of(cls, execution_input: str) -> Start:
        given = json.loads(execution_input)
        expectation = given.get("expectation")
        return cls(
            submitted_at=float(given["submitted_at"]),
            deadline_at=float(given["deadline_at"]),
            expectation=Expectation.model_validate(expectation) if expectation else None,
            first_wait=int(given["poll"]["next_wait_seconds"]),
        )


@dataclass
class WatchLedger:
    """Every watch-queue message the watch function was handed, by (job_id, chain, look)."""

    messages: dict[Look, set[str]] = field(default_factory=dict)

    def observe(self, record: Mapping[str, Any]) -> None:
        try:
            body = json.loads(str(record["body"]))
            state = body["state"]
            look = int(body.get("look", FIRST_LOOK))
            key = (str(state["job_id"]), chain_of(str(body["task_token"])), look)
        except (KeyError, TypeError, ValueError):
            return
        self.messages.setdefault(key, set()).add(str(record["messageId"]))

    def forks(self) -> list[Look]:
        return sorted(key for key, ids in self.messages.items() if len(ids) > 1)


def policy_looks(policy: PollPolicy, start: Start, until: float) -> int:
    """The looks the policy alone makes from the job's submission until `until` (the job's last status GET),
    the look at or after `until` included: one chain, every look exactly when due, no error."""
    deadline = start.deadline_at - start.submitted_at
    at, looks = float(start.first_wait), 1
    while start.submitted_at + at < until:
        wait = wait_before_deadline(next_wait_seconds(at, policy, start.expectation), at, deadline, policy)
        at, looks = at + wait, looks + 1
    return looks


@dataclass(frozen=True)
class LookCount:
    job_id: str
    made: int  # status GETs of its GMI request
    policy: int  # what the policy alone would make, plus the GETs its planned faults and Completes add

    @property
    def extra(self) -> int:
        return self.made - self.policy


def status_gets(
    requests_log: Iterable[Any], job_of: Mapping[str, str], warps: list[tuple[float, float]]
) -> dict[str, list[float]]:
    """The times of each job's status GETs (simulator log entries; `job_of`: request id -> job id), on the
    soak's clock: `warps` lists (real time, offset the clocks ran ahead from then on)."""
    gets: dict[str, list[float]] = {}
    for entry in requests_log:
        job_id = job_of.get(str(entry.path).rsplit("/", 1)[-1]) if entry.method == "GET" else None
        if job_id is not None:
            offset = max((o for t, o in warps if t <= entry.at), default=0.0)
            gets.setdefault(job_id, []).append(float(entry.at) + offset)
    return gets


def look_counts(
    policy: PollPolicy,
    starts: Mapping[str, Start],
    gets: Mapping[str, list[float]],
    allowance: Mapping[str, int],
) -> list[LookCount]:
    """Per job with a watch chain: its status GETs (`gets`: their times) against the policy's; `allowance`:
    GETs beyond the policy's that the job is owed (a faulted GET looked again, each Complete's own GET)."""
    counts = []
    for job_id, start in starts.items():
        times = gets.get(job_id, [])
        if times:
            bound = policy_looks(policy, start, max(times)) + allowance.get(job_id, 0)
            counts.append(LookCount(job_id, len(times), bound))
    return counts


def explained(record: JobRecord) -> bool:
    if record.status == "succeeded":
        return record.output is not None and record.output.size > 0
    return record.failure is not None and bool(record.failure.category) and bool(record.failure.message)


def sample(job_ids: list[str], found: Mapping[str, JobRecord], executions: list[dict[str, Any]]) -> str:
    """A few stuck jobs, each with its record's status and its executions' (a record that disagrees with a
    finished execution points at the record's writes, one still running at the workflow)."""
    if not job_ids:
        return ""
    runs = {job_id: [e["status"] for e in executions if e["name"].startswith(f"{job_id}-")] for job_id in job_ids}
    return str([f"{j[:8]}:{found[j].status} (execution {'/'.join(runs[j]) or 'none'})" for j in job_ids[:5]])


def source_key(payload: Mapping[str, Any]) -> str:
    """The S3 key of the image a GMI job was created for (path-style presigned URL: /bucket/key)."""
    path = unquote(urlsplit(str(payload.get("image_url", ""))).path)
    return path.split("/", 2)[2] if path.count("/") >= 2 else path
