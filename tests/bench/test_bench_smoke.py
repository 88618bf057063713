"""The benchmark code runs on tiny inputs (no timing assertions: benchmarks are measurements, not tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import levers, mix, policy, pricing, report, scenarios
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
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{report.README_START}\nstale numbers\n{report.README_END}\n\n## Next\n")
    assert main(["--quick", "--output", str(output), "--readme", str(readme)]) == 0
    printed = capsys.readouterr().out
    for benchmark in ("1 polling", "2 copy", "3 cold start", "4 burst", "5 cost", "6 pacing"):
        assert benchmark in printed
    page = output.read_text()
    sections = (
        "## 1. Polling policy",
        "## 2. Video copy",
        "## 3. Cold start",
        "## 4. Burst",
        "## 5. Cost",
        "## 6. Pacing",
    )
    for section in sections:
        assert section in page
    assert "GAP" not in printed
    written = readme.read_text()
    assert written.startswith("# Title\n\n" + report.README_START)
    assert written.endswith(report.README_END + "\n\n## Next\n")
    assert "stale numbers" not in written
    for bullet in ("**Video in S3 soon", "**Big videos**", "**Cold start**", "**Bursts**", "**Cost**"):
        assert bullet in written


def test_scenarios_put_one_or_many_jobs_in_flight():
    one, steady, bursts = scenarios.scenarios(600, mix.DEFAULT_SIGMA)
    chosen = policy.deployed_policy()
    assert scenarios.run_scenario(one, mix.DEFAULT_SIGMA, chosen).peak_in_flight == 1
    burst = scenarios.run_scenario(bursts, mix.DEFAULT_SIGMA, chosen)
    assert burst.peak_in_flight >= 50
    assert len(burst.ours.outcomes) == len(burst.fixed_60.outcomes) == 5 * 60
    assert [j.generation_seconds for j in steady.jobs] == [j.generation_seconds for j in one.jobs]


def test_a_shared_poller_splits_the_awake_time_among_the_jobs_being_polled():
    def job(start: float, end: float) -> policy.JobOutcome:
        return policy.JobOutcome(0.0, 1, True, polling_from=start, done_at=end)

    assert levers.shared_seconds([job(0, 10), job(5, 15), job(20, 22)]) == [7.5, 7.5, 2.0]


def test_the_record_is_written_per_poll_only_in_the_before_model():
    assert pricing.progress_writes(20, pricing.CostModel(write_every_poll=True)) == 19
    assert pricing.progress_writes(20, pricing.CostModel()) == pricing.PROGRESS_CHANGES
    assert pricing.progress_writes(1, pricing.CostModel()) == 0
