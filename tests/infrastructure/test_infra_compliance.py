"""cdk-nag (AwsSolutions + Serverless) and cfn-lint on the synthesized app: nothing unacknowledged."""

from __future__ import annotations

from typing import Any

import pytest

from i2v_infra.cfn_lint import IGNORED_RULES, lint

pytestmark = pytest.mark.xdist_group("cdk")


def _show(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['severity']} {v['rule']} at {v['path']}: {v['description']}" for v in violations)


def test_cdk_nag_reports_no_unacknowledged_finding(synth_result: Any) -> None:
    assert (synth_result.outdir / "validation-report.json").is_file(), "the nag packs did not run"
    assert synth_result.violations == [], _show(synth_result.violations)


def test_acknowledgments_are_precise_and_explained(synth_result: Any) -> None:
    from i2v_infra.nag import ACKNOWLEDGED

    assert ACKNOWLEDGED
    stack = synth_result.stack_name
    for ack in ACKNOWLEDGED:
        assert ack.path.startswith(f"{stack}/"), f"{ack.id} acknowledged for a whole stack or app"
        assert ack.id.startswith(("AwsSolutions-", "Serverless-")), ack
        if ack.id.startswith(("AwsSolutions-IAM5", "AwsSolutions-IAM4")):
            assert "[" in ack.id, f"{ack.id} must name the exact finding (Rule[Finding])"
        assert len(ack.reason) >= 60, f"reason too thin for {ack.id} on {ack.path}"


def test_cfn_lint_finds_nothing(synth_result: Any) -> None:
    assert synth_result.templates
    for name in synth_result.templates:
        findings = lint(synth_result.outdir / name)
        assert findings == [], "\n".join(f"{f.level} {f.rule} {f.location}: {f.message}" for f in findings)


def test_every_ignored_cfn_lint_rule_has_a_reason() -> None:
    for rule, reason in IGNORED_RULES.items():
        assert rule[0] in "WI", f"{rule}: errors are never ignored"
        assert len(reason) >= 60, rule


def test_variant_with_alarm_email_and_disposable_data_is_clean(tmp_path_factory: pytest.TempPathFactory) -> None:
    from aws_cdk.assertions import Match, Template

    from i2v_infra.synth import synthesize

    result = synthesize(
        tmp_path_factory.mktemp("cdk-variant"),
        nag=True,
        config_overrides={
            "alarm_email": "ops@example.com",
            "retain_data": False,
            "daily_submission_cap": 100,
            "budget_exceeded_action": "defer",
            "daily_budget_usd": 50,
            "prefix_budgets": {"team-a/": 10, "team-b/": 25.5},
            "submit_concurrency": 10,
            "submit_batch_size": 10,
            "gmi_timeout_seconds": 20,
        },
    )
    assert result.violations == [], _show(result.violations)
    for name in result.templates:
        assert lint(result.outdir / name) == []
    template = Template.from_json(result.template)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ops@example.com", "RedrivePolicy": Match.any_value()},
    )
    template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 10}})
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "i2v.handlers.submit.handler", "Timeout": 300}
    )
    template.has_resource_properties("AWS::SQS::Queue", {"VisibilityTimeout": 1800})
