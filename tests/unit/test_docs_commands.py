"""The set-up and deploy docs walked through as written (issue 28, stumble 8): every command they name exists,
and every tool they use is a listed prerequisite. What needs an AWS account is checked for its names only."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import typer

from i2v_cli.app import app
from i2v_infra.config import PipelineConfig
from i2v_infra.synth import load_cdk_context

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/deploy.md", "docs/configuration.md"]
# A command's first word -> the words its prerequisite is listed under in docs/deploy.md.
TOOLS = {
    "aws": "AWS CLI",
    "jq": "`jq`",
    "make": "`make`",
    "npx": "Node.js",
    ".venv/bin/i2v": "`make install`",
    "pip": "Python 3.11+",  # the construct package into your own app's environment
}
SHELL_WORDS = {"for", "do", "done", "if", "then", "fi", "export", "cd"}


def _commands(doc: str) -> list[str]:
    """Each command of the doc's ```bash blocks: continuations joined, comments dropped, `A=$(B)` gives B."""
    text = (ROOT / doc).read_text()
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.replace("\\\n", " ").splitlines():
            line = raw.split("  #")[0].strip()
            if not line:
                continue
            commands.extend(inner.strip() for inner in re.findall(r"\$\(([^()]*)\)", line))
            rest = re.sub(r"^for \w+ in \$\(.*\); do$", "", re.sub(r"^[A-Z_]+=\S*\s*$", "", line))
            if rest and rest.split()[0] not in SHELL_WORDS:
                commands.append(rest)
    return commands


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def _cli_commands() -> set[str]:
    group = typer.main.get_group(app)
    return set(group.commands)


@pytest.mark.parametrize("doc", DOCS)
def test_every_make_target_and_i2v_command_a_doc_names_exists(doc: str) -> None:
    targets, cli = _makefile_targets(), _cli_commands()
    for command in _commands(doc):
        words = shlex.split(command.replace("$(", "").replace(")", ""))
        if words[0] == "make":
            assert words[1] in targets, f"{doc}: `{command}`: no make target {words[1]!r}"
        if words[0] == ".venv/bin/i2v":
            assert words[1] in cli, f"{doc}: `{command}`: no i2v command {words[1]!r}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_tool_a_doc_uses_is_a_listed_prerequisite(doc: str) -> None:
    prerequisites = (ROOT / "docs/deploy.md").read_text().split("## Prerequisites")[1].split("\n## ")[0]
    for command in _commands(doc):
        tool = command.split()[0]
        if tool in TOOLS:
            assert TOOLS[tool] in prerequisites, f"{doc}: `{command}` needs {tool}, not in deploy.md's prerequisites"
        else:
            assert tool in {".venv/bin/python", "SECRET=", "BUCKET="} or "=" in tool, f"{doc}: unknown tool {tool!r}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_stack_output_a_doc_reads_exists_and_every_override_is_valid(doc: str) -> None:
    from i2v_infra.stack import OUTPUT_KEYS

    context = load_cdk_context()["i2v"]
    for command in _commands(doc):
        for key in re.findall(r"\.ImageToVideoPipeline(?:\.| \| \.)(\w+)", command):
            assert key in OUTPUT_KEYS, f"{doc}: `{command}` reads output {key!r}, not one of the stack's"
        for overrides in re.findall(r"i2v_overrides='(\{.*?\})'", command):
            PipelineConfig.from_context(context, json.loads(overrides))
