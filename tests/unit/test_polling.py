import pytest

from i2v.domain.polling import (
    Expectation,
    PollOutcome,
    PollPolicy,
    classify_gmi_status,
    error_backoff_seconds,
    learn_expectation,
    next_wait_seconds,
    t_quantile,
    wait_before_deadline,
    wait_inline,
)

POLICY = PollPolicy()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("queued", PollOutcome.WAITING),
        ("processing", PollOutcome.WAITING),
        ("dispatched", PollOutcome.WAITING),
        ("", PollOutcome.WAITING),
        (None, PollOutcome.WAITING),
        ("SUCCESS", PollOutcome.SUCCEEDED),
        ("failed", PollOutcome.FAILED),
        ("cancelled", PollOutcome.FAILED),
    ],
)
def test_status_classification(status, outcome):
    assert classify_gmi_status(status) == outcome


def test_without_history_first_poll_after_initial_wait_then_bounded_growth():
    assert next_wait_seconds(0, POLICY, None) == POLICY.initial_wait_seconds
    assert next_wait_seconds(100, POLICY, None) == 10
    assert next_wait_seconds(10_000, POLICY, None) == POLICY.max_wait_seconds


def test_with_history_sleeps_until_the_window_then_polls_finely():
    expectation = Expectation(early_seconds=120, late_seconds=180, samples=50)
    first = next_wait_seconds(0, POLICY, expectation)
    assert 115 <= first <= 120
    typical = (120 * 180) ** 0.5  # the window is symmetric in log time
    assert next_wait_seconds(typical, POLICY, expectation) == POLICY.fine_interval_seconds
    assert next_wait_seconds(300, POLICY, expectation) > POLICY.fine_interval_seconds


def test_polls_are_densest_where_jobs_usually_finish():
    expectation = Expectation(early_seconds=120, late_seconds=180, samples=50)
    waits = [next_wait_seconds(elapsed, POLICY, expectation) for elapsed in (119, 135, 147, 160, 179)]
    assert min(waits) == waits[2] == POLICY.fine_interval_seconds
    assert waits[0] >= waits[1] >= waits[2] <= waits[3] <= waits[4]
    assert waits[0] > POLICY.fine_interval_seconds
    flat = POLICY.model_copy(update={"tail_spacing": 0.0})
    assert {next_wait_seconds(e, flat, expectation) for e in (119, 147, 179)} == {flat.fine_interval_seconds}


def test_waits_are_whole_seconds_within_bounds():
    expectation = Expectation(early_seconds=5, late_seconds=6, samples=9)
    for elapsed in range(0, 5000, 37):
        for exp in (None, expectation):
            wait = next_wait_seconds(elapsed, POLICY, exp)
            assert isinstance(wait, int)
            assert POLICY.min_wait_seconds <= wait <= POLICY.max_wait_seconds


def test_learning_needs_enough_samples():
    assert learn_expectation([100, 110], POLICY) is None
    learned = learn_expectation([100, 105, 110, 115, 120, 125], POLICY)
    assert learned is not None
    # A prediction interval for the next job: wider than the few samples seen, centred on them.
    assert learned.early_seconds < 100
    assert learned.late_seconds > 125
    assert 105 < (learned.early_seconds * learned.late_seconds) ** 0.5 < 120
    assert learned.samples == 6


def test_window_narrows_as_samples_accumulate():
    few = learn_expectation([100, 110, 121], POLICY)
    many = learn_expectation([100, 110, 121] * 20, POLICY)
    assert few is not None
    assert many is not None
    assert few.early_seconds < many.early_seconds < many.late_seconds < few.late_seconds


def test_identical_samples_still_give_a_window():
    learned = learn_expectation([150.0] * 10, POLICY)
    assert learned is not None
    assert learned.early_seconds < 150 < learned.late_seconds


@pytest.mark.parametrize(
    ("q", "dof", "expected"),
    [(0.99, 1, 31.821), (0.99, 2, 6.965), (0.99, 4, 3.747), (0.99, 10, 2.764), (0.975, 30, 2.042), (0.01, 4, -3.747)],
)
def test_t_quantile_matches_tables(q, dof, expected):
    assert t_quantile(q, dof) == pytest.approx(expected, rel=0.01)


def test_never_sleeps_past_the_deadline():
    assert wait_before_deadline(60, elapsed=1790, deadline_seconds=1800, policy=POLICY) == 10
    assert wait_before_deadline(60, elapsed=1800, deadline_seconds=1800, policy=POLICY) == 1


def test_error_backoff_grows_and_caps():
    waits = [error_backoff_seconds(n, POLICY) for n in range(1, 8)]
    assert waits == sorted(waits)
    assert waits[-1] == POLICY.max_wait_seconds


def test_policy_rejects_inconsistent_bounds():
    with pytest.raises(ValueError, match="fine_interval"):
        PollPolicy(min_wait_seconds=10, fine_interval_seconds=5)


def test_short_waits_are_slept_inside_the_invocation_within_its_budget():
    policy = PollPolicy(inline_max_wait_seconds=10, inline_budget_seconds=60)
    assert wait_inline(4, spent_in_invocation=0, policy=policy)
    assert wait_inline(4, spent_in_invocation=56, policy=policy)
    assert not wait_inline(4, spent_in_invocation=57, policy=policy)  # would overrun the budget
    assert not wait_inline(11, spent_in_invocation=0, policy=policy)  # long waits go back to a Wait state
    assert not wait_inline(1, spent_in_invocation=0, policy=PollPolicy(inline_budget_seconds=0))
