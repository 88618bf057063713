"""Daily budgets in dollars (issue 25), on the fakes: the price is reserved before the POST, per day and per
prefix, given back when GMI took nothing, kept by an ambiguous job until it is reconciled as not created."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from i2v.domain.gmi_answers import GmiAmbiguousError, GmiPermanentError, GmiRequest
from i2v.domain.jobs import JobStatus
from i2v.services.submit import SubmitService
from i2v.services.submit_result import SubmitOutcome
from support.fakes import Fakes
from support.submit_service import NOW, job_of, submit_env, submit_service, upload

PRICED = '{"pixverse-v5.5-i2v": {"unit": "video", "rates": [{"usd": 0.45}]}}'
TODAY = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
DAY = "2026-03-14"


def _service(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, **env: str) -> SubmitService:
    service = submit_service(fakes, env=submit_env(GMI_PRICES=PRICED, **env))
    monkeypatch.setattr(service, "_today", lambda: TODAY)
    return service


def test_a_day_never_spends_more_than_its_budget_plus_one_jobs_price(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="2")
    results = [service.submit_source(upload(fakes, f"incoming/{n}.png")) for n in range(12)]

    outcomes = [result.outcome for result in results]
    assert outcomes.count(SubmitOutcome.SUBMITTED) == 5  # $0, 0.45, 0.90, 1.35, 1.80 spent before each: below $2
    assert outcomes.count(SubmitOutcome.REJECTED) == 7
    assert len(fakes.gmi.submitted) == 5
    assert fakes.repo.spend[DAY] == {"all": Decimal("2.25")}  # <= $2 + one job's $0.45
    rejected = job_of(fakes, upload(fakes, "incoming/11.png"))
    assert rejected.failure is not None
    assert rejected.failure.category == "budget"
    assert (
        rejected.failure.message == "daily budget of $2.00 (daily_budget_usd) reached ($2.25 spent on 2026-03-14 UTC)"
    )
    accepted = job_of(fakes, upload(fakes, "incoming/0.png"))
    assert accepted.budget_reserved is not None
    assert (accepted.budget_reserved.day, accepted.budget_reserved.usd) == (DAY, 0.45)
    assert fakes.spend.reported[-1] == ("all", 2.25)


def test_a_prefix_budget_stops_one_team_while_another_goes_on(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="100", PREFIX_BUDGETS='{"team-a/": 1, "team-a/x/": 50}')
    team_a = [service.submit_source(upload(fakes, f"incoming/team-a/{n}.png")).outcome for n in range(5)]
    team_b = [service.submit_source(upload(fakes, f"incoming/team-b/{n}.png")).outcome for n in range(5)]
    deep = service.submit_source(upload(fakes, "incoming/team-a/x/1.png")).outcome  # the longest prefix counts

    assert team_a == [SubmitOutcome.SUBMITTED] * 3 + [SubmitOutcome.REJECTED] * 2
    assert team_b == [SubmitOutcome.SUBMITTED] * 5
    assert deep == SubmitOutcome.SUBMITTED
    assert fakes.repo.spend[DAY] == {"all": Decimal("4.05"), "team-a/": Decimal("1.35"), "team-a/x/": Decimal("0.45")}
    refused = job_of(fakes, upload(fakes, "incoming/team-a/4.png"))
    assert refused.failure is not None
    assert "daily budget of $1.00 for prefix 'team-a/' (prefix_budgets) reached" in refused.failure.message


def test_over_the_budget_a_job_can_wait_for_the_next_utc_day(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="0.40", BUDGET_EXCEEDED_ACTION="defer")
    service.submit_source(upload(fakes, "incoming/one.png"))
    late = service.submit_source(upload(fakes, "incoming/two.png"))
    assert (late.outcome, job_of(fakes, upload(fakes, "incoming/two.png")).status) == (
        SubmitOutcome.DEFERRED,
        JobStatus.DEFERRED,
    )
    assert fakes.requeue.sent == [({"kind": "resume", "job_id": late.job_id}, 900)]

    monkeypatch.setattr(service, "_today", lambda: TODAY + timedelta(days=1))
    assert service.resume_job(str(late.job_id)).outcome == SubmitOutcome.SUBMITTED
    assert fakes.repo.spend == {DAY: {"all": Decimal("0.45")}, "2026-03-15": {"all": Decimal("0.45")}}


def test_a_dollar_budget_refused_gives_the_count_caps_slot_back(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="0.40", DAILY_SUBMISSION_CAP="10")
    service.submit_source(upload(fakes, "incoming/one.png"))
    service.submit_source(upload(fakes, "incoming/two.png"))
    assert fakes.repo.budget == {DAY: 1}


def test_an_unpriced_model_under_a_dollar_budget_is_refused_naming_the_model_and_gmi_prices(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = submit_service(fakes, env=submit_env(DAILY_BUDGET_USD="5"))  # pixverse-v5.5-i2v: no known price
    monkeypatch.setattr(service, "_today", lambda: TODAY)
    result = service.submit_source(upload(fakes))
    job = job_of(fakes, upload(fakes))
    assert result.outcome == SubmitOutcome.REJECTED
    assert job.failure is not None
    assert job.failure.category == "budget"
    assert "model 'pixverse-v5.5-i2v' has no known price" in job.failure.message
    assert "gmi_prices" in job.failure.message
    assert "unpriced_jobs_under_budget" in job.failure.message
    assert fakes.gmi.submitted == []
    assert fakes.repo.spend == {}


def test_an_unpriced_model_may_be_allowed_and_is_not_counted(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    service = submit_service(fakes, env=submit_env(DAILY_BUDGET_USD="5", UNPRICED_JOBS_UNDER_BUDGET="allow"))
    assert service.submit_source(upload(fakes)).outcome == SubmitOutcome.SUBMITTED
    assert fakes.repo.spend == {}
    assert job_of(fakes, upload(fakes)).budget_reserved is None


def test_without_a_dollar_budget_an_unpriced_job_goes_on(fakes: Fakes) -> None:
    service = submit_service(fakes, env=submit_env(PREFIX_BUDGETS='{"team-a/": 5}'))
    assert service.submit_source(upload(fakes, "incoming/team-b/cat.png")).outcome == SubmitOutcome.SUBMITTED


def test_a_refused_post_gives_the_money_back(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="5")
    fakes.gmi.submit_answers.append(GmiPermanentError("GMI answered 400: no", status_code=400))
    service.submit_source(upload(fakes))
    job = job_of(fakes, upload(fakes))
    assert job.status == JobStatus.FAILED
    assert job.budget_reserved is None
    assert fakes.repo.spend[DAY] == {"all": Decimal(0)}
    assert fakes.spend.reported == [("all", 0.45), ("all", 0.0)]


def test_an_ambiguous_job_keeps_its_money_until_reconciled_as_not_created_then_gives_it_back_once(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="5")
    fakes.gmi.submit_answers.append(GmiAmbiguousError("GMI did not answer in time"))
    result = service.submit_source(upload(fakes))
    assert result.outcome == SubmitOutcome.AMBIGUOUS
    assert fakes.repo.spend[DAY] == {"all": Decimal("0.45")}  # GMI may have it: it counts

    fakes.gmi.listed = []
    service.reconcile_job(str(result.job_id), now=True)
    service.reconcile_job(str(result.job_id), now=True)  # asked twice: given back once
    assert fakes.repo.spend[DAY] == {"all": Decimal(0)}
    assert job_of(fakes, upload(fakes)).budget_reserved is None

    # GMI's list was late after all: the job is found, GMI bills it, and it counts again.
    (payload,) = fakes.gmi.submitted
    fakes.gmi.listed = [GmiRequest(request_id="late", status="queued", payload=payload, created_at=NOW + 1)]
    assert service.reconcile_job(str(result.job_id), now=True).outcome == SubmitOutcome.RECONCILED
    assert fakes.repo.spend[DAY] == {"all": Decimal("0.45")}
    assert job_of(fakes, upload(fakes)).budget_reserved is not None


def test_a_refusal_whose_budget_has_room_again_by_the_time_it_is_read_still_names_a_budget(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A give-back between the refused reservation and the read of the day's spend (another job's refusal)."""
    service = _service(fakes, monkeypatch, DAILY_BUDGET_USD="2")
    monkeypatch.setattr(fakes.repo, "reserve_spend", lambda *args: None)
    result = service.submit_source(upload(fakes))
    job = job_of(fakes, upload(fakes))
    assert result.outcome == SubmitOutcome.REJECTED
    assert job.failure is not None
    assert job.failure.message == "daily budget of $2.00 (daily_budget_usd) reached ($0.00 spent on 2026-03-14 UTC)"
