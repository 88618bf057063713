"""The chaos soak (i2v_local.soak), small: `make soak` runs the same with 500 uploads.

Every GMI fault of the mix is given to at least one upload (one fault per upload, chosen by the seed), the
duplicates and bad images too, and every AWS fault (duplicate SQS deliveries, batches killed at their timeout,
throttled receives, previous-release execution inputs) fires at least once; the soak's invariants are asserted,
and so is the mix itself: each GMI fault fired exactly as planned, whatever the timing of the run, so the same
seed fires the same faults. The soak lives through every reconcile (its clocks move on), so an ambiguous job GMI
created is found and watched: GMI jobs == workflow executions.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from fixtures.leak_guard import CapturingLeakGuard
from i2v_local.soak import FAULT_MIX, SoakConfig, SoakReport, plan_uploads, run_soak
from i2v_local.stack.aws_faults import AWS_FAULTS

pytestmark = [pytest.mark.xdist_group(__name__), pytest.mark.slow]

UPLOADS = 24
SEED = 11
ASKED = Counter(spec.split()[0] for spec in FAULT_MIX)  # each fault at least once in a small soak


def _soak(template: dict[str, Any], guard: CapturingLeakGuard, seed: int = SEED) -> SoakReport:
    report = run_soak(SoakConfig(uploads=UPLOADS, seed=seed), template=template, observe=guard.watching)
    print("\n" + report.table())
    return report


def test_chaos_soak_keeps_every_job_accounted_for(cdk_template: dict[str, Any], leak_guard: CapturingLeakGuard) -> None:
    report = _soak(cdk_template, leak_guard)

    assert report.ok, report.table()
    assert sum(report.statuses.values()) == UPLOADS
    assert report.duplicates_sent >= UPLOADS // 10
    assert report.bad_images >= 1
    # The mix asked for is the mix that fired: every fault, as often as planned.
    assert report.faults_planned == ASKED
    assert +report.faults_fired == ASKED, report.table()
    # What each fault must lead to: an ambiguous POST GMI never created a job for waits for an operator (its
    # reconcile found nothing), everything else heals, reconciled jobs included.
    assert report.statuses["submit_ambiguous"] == ASKED["post_500"]
    assert report.statuses["succeeded"] == UPLOADS - report.bad_images - report.statuses["submit_ambiguous"]
    # GMI jobs: one per image that got that far (succeeded; failed at GMI: the corrupt PNG), none for the image
    # GMI answered 503 after creating its job (README), and each one watched by exactly one execution.
    assert report.posts == report.statuses["succeeded"] + report.statuses["failed"]
    assert report.executions == report.posts
    # AWS misbehaved in every way asked for, and no chain of looks forked.
    assert [name for name, _planned, _fired in report.aws_faults] == list(AWS_FAULTS)
    assert all(fired > 0 for _name, _planned, fired in report.aws_faults), report.table()
    assert report.forks == 0


def test_the_same_seed_fires_the_same_faults(cdk_template: dict[str, Any], leak_guard: CapturingLeakGuard) -> None:
    first, second = _soak(cdk_template, leak_guard), _soak(cdk_template, leak_guard)

    assert first.fault_plan == second.fault_plan  # the same uploads got the same faults
    assert first.faults_fired == second.faults_fired == first.faults_planned
    assert first.statuses == second.statuses
    assert [name for name, _p, _f in first.aws_faults] == [name for name, _p, _f in second.aws_faults]
    # The seed is what decides: another one plans other uploads for the faults.
    assert plan_uploads(SoakConfig(uploads=UPLOADS, seed=SEED + 1)).faults != first.fault_plan
