"""The benchmark code runs on tiny inputs (no timing assertions: benchmarks are measurements, not tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import mix, policy
from benchmarks.__main__ import main
from benchmarks.stepfunctions import transitions_for_polls, walk

pytestmark = pytest.mark.xdist_group("bench")


def test_reference_mix_is_seeded_and_clamped():
    jobs = mix.reference_mix(500)
    assert jobs == mix.reference_mix(500)
    assert all(mix.MIN_SECONDS <= j.generation_seconds <= mix.MAX_SECONDS for j in jobs)
    assert {j.job_class.name for j in jobs} <= {c.name for c in mix.job_classes()}


def test_workflow_walk_counts_three_transitions_per_poll():
    one, four = transitions_for_polls(1), transitions_for_polls(4)
    assert one.states == ("AlreadyDone?", "Wait", "Poll", "Route", "Complete", "Done")
    assert four.transitions - one.transitions == 9
    assert four.history_events - one.history_events == 27
    assert walk(["waiting", "failed"]).states[-2:] == ("RecordFailure", "JobFailed")
    assert walk([], done_at_submit=True).states == ("AlreadyDone?", "Complete", "Done")


def test_policy_replay_uses_the_real_policy_and_learns():
    jobs = mix.reference_mix(120)
    chosen = policy.deployed_policy()
    result = policy.replay(jobs, policy.ours(chosen), chosen, "ours")
    assert len(result.outcomes) == 120
    assert all(o.lag >= 0 and o.polls >= 1 for o in result.outcomes)
    assert any(o.warm for o in result.outcomes)
    assert any(not o.warm for o in result.outcomes)
    fixed = policy.replay(jobs, policy.fixed(60), chosen, "fixed")
    assert max(o.lag for o in fixed.outcomes) <= 60 + policy.POLL_OVERHEAD_SECONDS


def test_quick_run_writes_the_results_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    output = tmp_path / "benchmarks.md"
    assert main(["--quick", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    for benchmark in ("1 polling", "2 copy", "3 cold start", "4 burst", "5 cost"):
        assert benchmark in printed
    page = output.read_text()
    for section in ("## 1. Polling policy", "## 2. Video copy", "## 3. Cold start", "## 4. Burst", "## 5. Cost"):
        assert section in page
    assert "GAP" not in printed
