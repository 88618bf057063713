"""Issue 25 (prices): each job is priced from its resolved settings before anything is sent, on moto + the GMI
simulator: the record and the Submitted and Succeeded events carry the estimate and whose rule it is."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from i2v_events.v1 import SubmittedDetail, SucceededDetail
from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver
from scenarios.workflow_helpers import SUCCEEDED

pytestmark = pytest.mark.xdist_group(__name__)

SUBMITTED = "Video Generation Submitted"


def test_each_job_carries_its_price_and_whose_rule_it_is(
    local_stack_factory: Callable[..., LocalStack], local_gmi: GmiSimulator, leak_guard: Any
) -> None:
    # wan2.6-i2v has no documented price: the deployment's gmi_prices gives it one.
    prices = {"wan2.6-i2v": {"unit": "second", "rates": [{"when": {"resolution": "1080P"}, "usd": 0.05}]}}
    stack = local_stack_factory(environment={"GMI_PRICES": json.dumps(prices)})
    pipeline = PipelineDriver(stack)
    tap = stack.tap_events()
    jobs = {
        # the simulator serves kling-3.0-turbo-i2v's price_info: $0.112/s, which beats the documented $0.14/s
        "gmi": pipeline.upload("incoming/turbo.png", prompt="waves", model="kling-3.0-turbo-i2v", resolution="1080p"),
        "setting": pipeline.upload("incoming/wan.png", prompt="waves", model="wan2.6-i2v", duration="10"),
        "documented": pipeline.upload("incoming/v3.png", prompt="waves", model="kling-v3-image-to-video", sound="on"),
        "none": pipeline.upload("incoming/pix.png", prompt="waves"),
    }
    stack.run_until_idle(timeout=60)

    expected = {"gmi": 0.56, "setting": 0.5, "documented": 1.26, "none": None}
    for source, job_id in jobs.items():
        job = pipeline.job(job_id)
        assert job.status == "succeeded", (source, job.failure)
        assert (job.price_source, job.estimated_cost_usd) == (source, expected[source])
    for detail_type, model in ((SUBMITTED, SubmittedDetail), (SUCCEEDED, SucceededDetail)):
        events = tap.wait_for(detail_type, count=len(jobs))
        by_job = {event["detail"]["job_id"]: model.model_validate(event["detail"]) for event in events}
        for source, job_id in jobs.items():
            assert (by_job[job_id].price_source, by_job[job_id].estimated_cost_usd) == (source, expected[source])
        assert "estimated_cost_usd" not in next(e["detail"] for e in events if e["detail"]["job_id"] == jobs["none"])
