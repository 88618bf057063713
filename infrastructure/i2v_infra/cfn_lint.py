"""cfn-lint over the synthesized templates, with every ignored rule and its reason in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: cfn-lint rules we ignore, and why. Everything else (errors and warnings) fails the tests.
IGNORED_RULES: dict[str, str] = {
    "W3005": (
        "Redundant DependsOn next to a GetAtt/Ref. CDK adds explicit DependsOn on purpose (e.g. a "
        "function on its role's DefaultPolicy, the bucket notification on the queue policy) so that "
        "permissions exist before use; the duplicate edge is harmless."
    ),
}
#: Regions to validate resource types and properties against (the pipeline is region-agnostic).
REGIONS = ["us-east-1", "eu-west-1"]


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str  # error | warning | informational
    message: str
    location: str


def lint(template: Path) -> list[Finding]:
    """All cfn-lint matches for ``template`` except the ignored rules."""
    from cfnlint.api import ManualArgs, lint_file

    config = ManualArgs(regions=REGIONS, ignore_checks=sorted(IGNORED_RULES))
    findings = []
    for match in lint_file(template, config=config):
        rule_id = match.rule.id
        level = {"E": "error", "W": "warning"}.get(rule_id[0], "informational")
        location = f"{template.name}:{match.linenumber}"
        findings.append(Finding(rule_id, level, match.message, location))
    return findings
