"""The soak's judges on crafted input (i2v_local.soak_checks): they must fail when they should.

- fork detector: one chain of looks, each look's successor once, is no fork, even when SQS delivers a message twice
  (same MessageId); two successors of one look (two MessageIds for one (job, chain, look)) are one; the look is
  the message's `look` (WatchMessage.look), and the state machine's own message, which has none, is look 0
  whatever its state's poll_count;
- look bound: a job looked at on the policy's schedule is within it; one looked at twice as often (two chains) is
  over it, and the allowance (Complete's own GET, a faulted GET) is what it says;
- memory bound: a run whose peak RSS grew past the fixed allowance plus the per-job one fails, and says by how much.
"""

from __future__ import annotations

import json
from typing import Any

from i2v.domain.polling import PollPolicy
from i2v_local.soak_checks import LookCount, Start, WatchLedger, chain_of, look_counts, policy_looks
from i2v_local.soak_report import MB, MemoryWatch, peak_rss_bytes, within_policy
from i2v_local.stack.settings import FAST_POLL_POLICY

TOKEN = "AQB8AAAAKgAAAAMAAAAAAAAAAf-a-task-token"
POLICY = PollPolicy(**FAST_POLL_POLICY)
START = Start(submitted_at=1000.0, deadline_at=1000.0 + 1800, expectation=None, first_wait=1)


def _record(message_id: str, poll_count: int, look: int | None = None, token: str = TOKEN) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task_token": token,
        "state": {"job_id": "job-1", "poll": {"poll_count": poll_count, "next_wait_seconds": 1}},
        "due_at": None,
    }
    if look is not None:
        body["look"] = look
    return {"messageId": message_id, "body": json.dumps(body)}


def test_one_chain_delivered_twice_is_no_fork() -> None:
    ledger = WatchLedger()
    for record in (_record("m0", 0), _record("m1", 1, 1), _record("m1", 1, 1), _record("m2", 2, 2)):  # m1 twice
        ledger.observe(record)

    assert ledger.forks() == []


def test_two_successors_of_one_look_are_a_fork() -> None:
    ledger = WatchLedger()
    for record in (_record("m0", 0), _record("m1", 1, 1), _record("m1-again", 1, 1), _record("m2", 2, 2)):
        ledger.observe(record)

    assert ledger.forks() == [("job-1", chain_of(TOKEN), 1)]


def test_the_state_machines_message_is_look_0_whatever_its_poll_count() -> None:
    """The Poll task looked twice before the Watch state: its message (no `look`) has poll_count 2, and the
    watcher's second successor is look 2. One chain, no fork."""
    ledger = WatchLedger()
    for record in (_record("sm", 2), _record("a", 3, look=1), _record("b", 4, look=2)):
        ledger.observe(record)

    assert ledger.forks() == []


def test_the_look_field_names_the_look_when_the_message_has_one() -> None:
    ledger = WatchLedger()
    # Same poll_count (a hop without a GET), different looks: no fork; the same look twice: a fork.
    for record in (_record("a", 3, look=4), _record("b", 3, look=5), _record("c", 3, look=5)):
        ledger.observe(record)

    assert ledger.forks() == [("job-1", chain_of(TOKEN), 5)]


def test_another_task_token_is_another_chain_and_no_token_is_kept() -> None:
    ledger = WatchLedger()
    ledger.observe(_record("a", 2))
    ledger.observe(_record("b", 2, token="another-task-token"))  # the fallback's next Watch state: a new chain

    assert ledger.forks() == []
    assert TOKEN not in repr(ledger.messages)


def _policy_times(count: int) -> list[float]:
    """`count` looks exactly on the policy's schedule (no expectation: the waits grow with the time spent)."""
    at, times = float(START.first_wait), []
    for _ in range(count):
        times.append(START.submitted_at + at)
        at += POLICY.min_wait_seconds if at < POLICY.initial_wait_seconds else max(1, min(2, round(at * 0.1)))
    return times


def test_looks_on_the_policys_schedule_are_within_it() -> None:
    times = _policy_times(8)
    (count,) = look_counts(POLICY, {"job-1": START}, {"job-1": times}, {})

    assert count.made == 8
    assert count.extra <= 0
    assert within_policy([count]).ok


def test_two_chains_of_looks_are_over_the_policy() -> None:
    times = _policy_times(8)
    doubled = sorted(times + [t + 0.5 for t in times[2:]])  # a second chain from the third look on
    (count,) = look_counts(POLICY, {"job-1": START}, {"job-1": doubled}, {})

    assert count.extra > 0
    verdict = within_policy([count])
    assert not verdict.ok
    assert "1 jobs over it" in verdict.detail


def test_the_allowance_covers_completes_and_faulted_gets() -> None:
    times = _policy_times(8)
    extra = [*times, times[-1] + 0.1, times[-1] + 0.2]  # Complete's GET and a faulted GET looked again

    (owed,) = look_counts(POLICY, {"job-1": START}, {"job-1": extra}, {"job-1": 2})
    (not_owed,) = look_counts(POLICY, {"job-1": START}, {"job-1": extra}, {})

    assert owed.extra <= 0
    assert not_owed.extra > 0


def test_the_policy_alone_looks_until_the_last_get() -> None:
    assert policy_looks(POLICY, START, START.submitted_at + START.first_wait) == 1
    assert policy_looks(POLICY, START, START.submitted_at + 60) > policy_looks(POLICY, START, START.submitted_at + 20)
    assert LookCount("j", 5, 5).extra == 0


def test_a_peak_rss_grown_past_the_bound_fails_and_says_its_numbers() -> None:
    jobs = 1000
    within = MemoryWatch(start=peak_rss_bytes() - MemoryWatch.limit(jobs) + 5 * MB).invariant(jobs)
    over = MemoryWatch(start=peak_rss_bytes() - MemoryWatch.limit(jobs) - 5 * MB).invariant(jobs)
    assert within.ok
    assert not over.ok
    assert "bound 1500 MB (500 MB + 1 MB x 1000 jobs)" in over.detail
    assert MemoryWatch.limit(jobs) < 2_000 * MB  # the 21 GB run could never pass
