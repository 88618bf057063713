"""The benchmark code runs on tiny inputs (no timing assertions: benchmarks are measurements, not tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import levers, mix, policy, pricing, pricing_invocations, pricing_model, report, scenarios
from benchmarks.__main__ import main
from benchmarks.burst import BurstResult, _function_key
from benchmarks.stepfunctions import FALLBACK_DEFINITION, wait_loop, walk, watched

pytestmark = pytest.mark.xdist_group("bench")


def test_reference_mix_is_seeded_and_clamped():
    jobs = mix.reference_mix(500)
    assert jobs == mix.reference_mix(500)
    assert all(mix.MIN_SECONDS <= j.generation_seconds <= mix.MAX_SECONDS for j in jobs)
    assert {j.job_class.name for j in jobs} <= {c.name for c in mix.job_classes()}


def test_the_baseline_walks_three_transitions_per_wait_loop_round():
    one, four = wait_loop(1), wait_loop(4)
    assert one.states == ("AlreadyDone?", "Wait", "Poll", "Route", "Complete", "Done")
    assert four.transitions - one.transitions == 9
    assert four.history_events - one.history_events == 27
    assert walk([], done_at_submit=True).states == ("AlreadyDone?", "Complete", "Done")


def test_the_deployed_definition_watches_a_job_in_one_callback_round():
    for spec in (None, FALLBACK_DEFINITION):  # the synthesized definition, and the contract without CDK
        assert walk(["succeeded"], spec=spec).states == ("AlreadyDone?", "Watch", "Route", "Complete", "Done")
        assert walk(["failed"], spec=spec).states[-2:] == ("RecordFailure", "JobFailed")
    # 2 execution + Choice 2 + the callback task 6 + Choice 2 + Lambda task 5 + Succeed 2
    assert watched().history_events == 19
    assert watched().transitions == 5


def test_each_function_is_keyed_by_its_logical_id():
    assert _function_key("PipelineWorkflowWatcherFunction7C2A4C3F") == "watch"
    assert _function_key("PipelineWorkflowPollFunction0768C216") == "poll"
    assert _function_key("PipelineIngestionSubmitFunction5F8D6DB1") == "submit"


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
    assert not any(o.watched for o in fixed.outcomes)


def test_queue_looks_are_spaced_by_the_wait_and_the_delivery_and_make_one_round():
    jobs = mix.reference_mix(120)
    chosen = policy.deployed_policy()
    spacing = 60 + policy.SQS_DELIVERY_SECONDS + policy.POLL_OVERHEAD_SECONDS
    queued = policy.replay(jobs, policy.fixed(60), chosen, "fixed, queued", looks=policy.Looks.WATCH_QUEUE)
    for job, outcome in zip(jobs, queued.outcomes, strict=True):
        assert outcome.watched
        assert outcome.rounds == 1
        assert outcome.hops == 0
        assert outcome.polls == max(1, -(-job.generation_seconds // spacing))  # the first look after one spacing
        assert 0 <= outcome.lag < spacing
        assert outcome.invocations == outcome.polls
    ours = policy.replay(jobs, policy.ours(chosen), chosen, policy.OURS, looks=policy.Looks.WATCH_QUEUE)
    assert all(o.watched for o in ours.outcomes)
    assert all(o.rounds == 1 for o in ours.outcomes)
    assert all(o.lag >= 0 for o in ours.outcomes)
    assert ours.summary()["transitions_mean"] == watched().transitions


def test_waits_beyond_the_sqs_delay_limit_are_sent_on_in_hops():
    assert [policy.hops_for(w) for w in (1, 900, 901, 1800, 1801)] == [0, 0, 1, 1, 2]
    job = mix.reference_mix(1)[0]
    chosen = policy.deployed_policy()
    long_wait = policy.replay([job], policy.fixed(1000), chosen, "long", looks=policy.Looks.WATCH_QUEUE)
    (outcome,) = long_wait.outcomes
    assert outcome.polls == 1
    assert outcome.hops == 1
    assert outcome.invocations == 2


def _burst() -> BurstResult:
    """A burst by hand: 10 jobs, one look each (GMI at zero generation time), by the watch function."""
    return BurstResult(
        images=10,
        wall_seconds=1.0,
        succeeded=10,
        videos_stored=10,
        lost=0,
        max_concurrent_submits=1,
        submit_cap=2,
        invocations={"submit": 2, "watch": 10, "complete": 10},
        durations_ms={"submit": 1000.0, "watch": 30.0, "complete": 100.0},
        memory_mb={"submit": 512, "watch": 128, "poll": 128, "complete": 1024},
        calls={"dynamodb:UpdateItem": 40, "stepfunctions:SendTaskHeartbeat": 10},
        submit_batches=2,
        log_bytes=10_000,
        job_item_bytes=2000,
        execution_input_bytes=600,
        history_events=0,
    )


def test_the_deployed_design_is_priced_per_look_and_the_baseline_per_round():
    kind = pricing_model.KINDS[0]
    deployed = {line.item: line for line in pricing.per_video(kind, 12, 1, 0.0, _burst(), watched=True, hops=1)}
    baseline = {line.item: line for line in pricing.per_video(kind, 3, 3, 0.9, _burst())}
    assert list(deployed) == list(baseline)  # the cost table lines them up
    assert deployed["Lambda watch"].quantity == 13
    assert deployed["Lambda poll"].quantity == 0
    assert deployed["SQS"].quantity == pricing_invocations.SUBMIT_SQS_REQUESTS + 3 * 13
    assert deployed["Step Functions"].quantity == watched().transitions
    assert baseline["Lambda poll"].quantity == 3
    assert baseline["Lambda watch"].quantity == 0
    assert baseline["SQS"].quantity == pricing_invocations.SUBMIT_SQS_REQUESTS
    assert baseline["Step Functions"].quantity == wait_loop(3).transitions
    # the baseline's poll function is timed by the watch function's median when the burst ran no poll
    assert "28 ms" not in baseline["Lambda poll"].unit
    assert baseline["Lambda poll"].unit == f"invocations, {30 + 2 / 3 * 20 + 300:.0f} ms each"


def test_the_deployed_lever_is_marked_and_the_previous_design_kept_as_history():
    deployed = [lever for lever in levers.LEVERS if lever.deployed]
    assert len(deployed) == 1
    assert deployed[0].watch_queue
    assert not deployed[0].on_fixed_60
    assert any(lever.name.startswith("previous: inline sleeps") for lever in levers.LEVERS)
    assert all(not lever.watch_queue for lever in levers.LEVERS[: levers.LEVERS.index(deployed[0])])


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
    assert pricing_model.progress_writes(20, pricing_model.CostModel(write_every_poll=True)) == 19
    assert pricing_model.progress_writes(20, pricing_model.CostModel()) == pricing_model.PROGRESS_CHANGES
    assert pricing_model.progress_writes(1, pricing_model.CostModel()) == 0
