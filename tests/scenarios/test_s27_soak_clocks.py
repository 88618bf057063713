"""Scenario 27, the soak's clocks: a POST sent after the run's clocks were moved on is still found in GMI's list.

The 500-upload soak (seed 7) paid two images twice (both `post_503_after_accept`) and left 13 jobs GMI had created
`submit_ambiguous` (`post_500_after_accept`, `post_timeout_after_accept`): their POSTs were sent after the soak had
moved its clocks on mid-run (`functions_warped`, 150 s a step), and the GMI simulator's clock had stayed behind. The
request GMI created then looked older than the POST by the warp, outside reconciliation's clock-skew allowance
(60 s), so the look after the 503 found nothing and POSTed again, and the reconcile found nothing. Real clocks (AWS's
and GMI's, both NTP-synchronised) do not drift minutes apart: a time-warped run moves GMI's clock with ours.
"""

from __future__ import annotations

import pytest

from i2v_local.simulator import GmiSimulator
from i2v_local.stack import LocalStack
from i2v_local.stack.driver import PipelineDriver, png_bytes
from i2v_local.timewarp import functions_warped

pytestmark = pytest.mark.xdist_group(__name__)

STEP = 150.0  # the soak's WARP_STEP_SECONDS


@pytest.mark.parametrize("fault", ["post_503_after_accept", "post_500_after_accept"])
def test_s27_a_post_sent_after_the_clocks_moved_on_is_found_at_gmi_and_paid_once(
    pipeline: PipelineDriver, local_stack: LocalStack, local_gmi: GmiSimulator, fault: str
) -> None:
    stack = local_stack
    offset = [STEP]  # moved on once before this upload, as the soak does mid-run
    posts_before = local_gmi.post_count
    with functions_warped(lambda: offset[0]):
        job_id = pipeline.upload(f"incoming/warped/{fault}.png", png_bytes(shade=9), prompt=f"a quay [sim:{fault}]")
        stack.run_until_idle(timeout=60)
        assert pipeline.job(job_id).status in ("deferred", "submit_ambiguous")
        for _ in range(4):  # the settle window after the 503 or the ambiguous answer
            offset[0] += STEP
            stack.run_until_idle(timeout=60)
            if pipeline.job(job_id).status == "succeeded":
                break

    job = pipeline.job(job_id)
    assert local_gmi.post_count - posts_before == 1  # GMI created it once: never POSTed again
    assert (job.status, "reconciled" in job.timestamps) == ("succeeded", True)
