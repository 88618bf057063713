"""Issue 25: every job knows its GMI price before anything is sent (on fakes: no AWS, no HTTP)."""

from __future__ import annotations

from typing import Any

from i2v.domain import catalog
from i2v.domain.gmi_answers import GmiRetryableError
from i2v.domain.pricing import PriceSource, configured_rules
from i2v.domain.record import JobRecord
from i2v.domain.settings import JobSettings
from i2v.services.pricing import price_job
from i2v_events.v1 import DetailType
from support.fakes import FakeGmi, Fakes
from support.submit_service import NOW, submit_env, submit_service

BUCKET = "input-bucket"
TURBO = "kling-3.0-turbo-i2v"
GMI_PRICE = {"price": 100000, "pricing_type": "per_second", "unit": "usd_micros"}


def turbo(**values: Any) -> JobSettings:
    return JobSettings(TURBO, catalog.get(TURBO).model_validate({"prompt": "a cat", **values}))


def test_gmi_price_info_beats_the_documented_price() -> None:
    gmi = FakeGmi()
    gmi.price_infos[TURBO] = GMI_PRICE
    price = price_job(turbo(resolution="1080p"), {}, gmi)
    assert (price.source, float(price.usd or 0)) == (PriceSource.GMI, 0.5)


def test_the_setting_beats_gmi_and_spares_the_call() -> None:
    gmi = FakeGmi()
    gmi.price_infos[TURBO] = GMI_PRICE
    configured = configured_rules({TURBO: {"unit": "video", "rates": [{"usd": 0.3}]}})
    price = price_job(turbo(), configured, gmi)
    assert (price.source, float(price.usd or 0)) == (PriceSource.SETTING, 0.3)
    assert gmi.price_info_calls == []


def test_gmi_unreachable_or_unreadable_falls_back_to_the_documented_price() -> None:
    gmi = FakeGmi()
    gmi.price_infos[TURBO] = GmiRetryableError("GMI answered 503: busy", status_code=503)
    assert price_job(turbo(), {}, gmi).source == PriceSource.DOCUMENTED
    gmi.price_infos[TURBO] = {"price": 3, "pricing_type": "per_token", "unit": "usd"}
    price = price_job(turbo(duration="10"), {}, gmi)
    assert (price.source, float(price.usd or 0)) == (PriceSource.DOCUMENTED, 1.12)


def _submitted(fakes: Fakes, **metadata: str) -> JobRecord:
    fakes.images.add(BUCKET, "incoming/cat.png", metadata=metadata)
    from i2v.domain.source import SourceObject

    source = SourceObject(bucket=BUCKET, key="incoming/cat.png", version_id="v1", etag="e", sequencer="0A", size=72)
    result = submit_service(fakes, env=submit_env(), clock=lambda: NOW).submit_source(source)
    job = fakes.repo.get(str(result.job_id))
    assert job is not None
    return job


def test_a_submitted_job_records_its_price_and_announces_it(fakes: Fakes) -> None:
    job = _submitted(fakes, model=TURBO, resolution="1080p", duration="5")
    assert (job.estimated_cost_usd, job.price_source) == (0.7, "documented")
    (detail_type, detail) = fakes.publisher.events[0]
    assert detail_type == DetailType.SUBMITTED
    assert (detail["estimated_cost_usd"], detail["price_source"]) == (0.7, "documented")


def test_a_job_without_a_known_price_is_recorded_as_such(fakes: Fakes) -> None:
    job = _submitted(fakes)  # pixverse-v5.5-i2v: GMI documents no price
    assert (job.estimated_cost_usd, job.price_source) == (None, "none")
    (_, detail) = fakes.publisher.events[0]
    assert detail["price_source"] == "none"
    assert "estimated_cost_usd" not in detail
    assert fakes.gmi.price_info_calls == ["pixverse-v5.5-i2v"]


def test_a_retry_that_has_no_price_drops_the_earlier_estimate(fakes: Fakes) -> None:
    from i2v.domain.gmi_answers import GmiPermanentError
    from i2v.domain.source import SourceObject
    from i2v.services.retry import retry_job

    fakes.images.add(BUCKET, "incoming/cat.png", metadata={"model": "wan2.6-i2v"})
    source = SourceObject(bucket=BUCKET, key="incoming/cat.png", version_id="v1", etag="e", sequencer="0A", size=72)
    priced = submit_env(GMI_PRICES='{"wan2.6-i2v": {"unit": "video", "rates": [{"usd": 0.4}]}}')
    fakes.gmi.submit_answers.append(GmiPermanentError("GMI answered 400: no", status_code=400))
    job_id = str(submit_service(fakes, env=priced, clock=lambda: NOW).submit_source(source).job_id)
    first = fakes.repo.get(job_id)
    assert first is not None
    assert (first.status, first.estimated_cost_usd, first.price_source) == ("failed", 0.4, "setting")

    retry_job(fakes.repo, fakes.requeue, job_id, confirm_ambiguous=False)
    submit_service(fakes, env=submit_env(), clock=lambda: NOW).resume_job(job_id)  # gmi_prices since emptied
    second = fakes.repo.get(job_id)
    assert second is not None
    assert (second.status, second.estimated_cost_usd, second.price_source) == ("submitted", None, "none")
