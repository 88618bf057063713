"""The chaos soak (i2v_local.soak), small: `make soak` runs the same with 500 uploads."""

from __future__ import annotations

from typing import Any

import pytest

from i2v_local.soak import SoakConfig, run_soak

pytestmark = [pytest.mark.xdist_group("local"), pytest.mark.slow]

UPLOADS = 24


def test_chaos_soak_keeps_every_job_accounted_for(cdk_template: dict[str, Any]) -> None:
    report = run_soak(SoakConfig(uploads=UPLOADS, seed=11), template=cdk_template)

    print("\n" + report.table())
    assert report.ok, report.table()
    assert sum(report.statuses.values()) == UPLOADS
    assert report.duplicates_sent >= UPLOADS // 10
    assert report.bad_images >= 1
    assert sum(report.faults_fired.values()) > 0, "no fault fired: the soak tested nothing"
