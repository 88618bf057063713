"""Build and synthesize the real app in-process (tests, the local stack) exactly as `cdk synth` does.

from i2v_infra.synth import synthesize_template
template = synthesize_template()   # dict: the stack's CloudFormation template (cached per process)
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from i2v_infra.config import CONTEXT_KEY, OVERRIDES_CONTEXT_KEY, PipelineConfig
from i2v_infra.nag import add_checks
from i2v_infra.paths import CDK_JSON
from i2v_infra.stack import ImageToVideoStack

VALIDATION_REPORT = "validation-report.json"


def load_cdk_context() -> dict[str, Any]:
    """The `context` block of cdk.json (feature flags and the `i2v` configuration)."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def create_stack(app: cdk.App, *, nag: bool = True, local_only: bool = False) -> ImageToVideoStack:
    """Read the configuration from the app's context and add the pipeline stack (and the nag packs).
    `local_only`: the function code without its Lambda dependencies (a template for the local stack alone)."""
    config = PipelineConfig.from_context(
        app.node.try_get_context(CONTEXT_KEY), app.node.try_get_context(OVERRIDES_CONTEXT_KEY)
    )
    if nag:
        add_checks(app)
    code = None
    if local_only:
        from i2v_infra.bundling import local_only_code

        code = local_only_code()
    return ImageToVideoStack(app, config.stack_name, config=config, code=code)


@dataclass
class SynthResult:
    outdir: Path
    stack_name: str
    templates: dict[str, dict[str, Any]]  # file name -> template, every *.template.json in the assembly
    violations: list[dict[str, Any]] = field(default_factory=list)  # cdk-nag findings, flattened

    @property
    def template(self) -> dict[str, Any]:
        return self.templates[f"{self.stack_name}.template.json"]


def synthesize(
    outdir: str | Path, *, nag: bool = True, config_overrides: dict[str, Any] | None = None, local_only: bool = False
) -> SynthResult:
    """Synthesize into ``outdir`` (a cloud assembly, like cdk.out/) and collect the cdk-nag findings.

    Unlike `cdk synth`, unacknowledged findings do not raise: they are returned in ``violations``.
    """
    out = Path(outdir)
    context = load_cdk_context()
    if config_overrides:
        context[OVERRIDES_CONTEXT_KEY] = config_overrides
    return synthesize_app(out, lambda app: create_stack(app, nag=nag, local_only=local_only), context=context)


def synthesize_app(
    outdir: str | Path, build: Callable[[cdk.App], cdk.Stack], *, context: dict[str, Any] | None = None
) -> SynthResult:
    """Synthesize whatever `build` adds to a fresh app (with cdk.json's context unless given): for other
    apps built on the construct, such as examples/consumer. Findings of nag packs it adds are collected."""
    out = Path(outdir)
    app = cdk.App(context=load_cdk_context() if context is None else context, outdir=str(out))
    stack = build(app)
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc) or not (out / VALIDATION_REPORT).is_file():
            raise
    templates = {p.name: json.loads(p.read_text()) for p in sorted(out.glob("*.template.json"))}
    return SynthResult(out, stack.stack_name, templates, _violations(out / VALIDATION_REPORT))


def _violations(report: Path) -> list[dict[str, Any]]:
    if not report.is_file():
        return []
    found = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                found.append(
                    {
                        "plugin": plugin.get("pluginName"),
                        "rule": violation.get("ruleName"),
                        "severity": violation.get("severity"),
                        "path": construct.get("constructPath"),
                        "description": violation.get("description"),
                    }
                )
    return found


@functools.cache
def synthesize_template(local_only: bool = False) -> dict[str, Any]:
    """The pipeline stack's template for the cdk.json configuration (synthesized once per process).
    `local_only`: for the local stack alone (see `create_stack`); everything but the code asset is the same."""
    with tempfile.TemporaryDirectory(prefix="i2v-cdk-") as outdir:
        return synthesize(outdir, nag=False, local_only=local_only).template
