"""The day's spend metric as the functions write it (EMF) has the dimensions the budget alarms read."""

from __future__ import annotations

import json

import pytest

from i2v.adapters.spend_metrics import SpendMetrics


def test_the_spend_of_one_budget_is_one_emf_metric_with_the_budget_as_a_dimension(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "i2v")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ImageToVideo")
    SpendMetrics().daily_spend("team-a/", 1.35)
    (document,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ImageToVideo"
    # What infrastructure/i2v_infra/constructs/budget_alarms.py alarms on: service and budget, nothing else.
    assert [sorted(d) for d in directive["Dimensions"]] == [["budget", "service"]]
    assert (document["budget"], document["service"], document["DailySpendUsd"]) == ("team-a/", "i2v", [1.35])
