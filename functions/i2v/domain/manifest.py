"""Manifests: a `.jsonl` or `.csv` under the manifest prefix starts one job per line (issue 27, item 4).

Pure: the messages that fan a manifest out (a chunk of it, one line), and what a chunk of bytes says. A manifest is
read in chunks of at most CHUNK_BYTES / CHUNK_LINES, each by one submit invocation that sends its lines as
messages to the submit queue and the next chunk's message after them: no invocation loops over 10,000 lines.

Each line's job is the image's own job (bucket, key, the version the line finds): a manifest uploaded again or a
message delivered twice lands on the job that exists, so nothing is paid twice, and an image is paid for once per
version however many manifests name it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_SUFFIXES = (".jsonl", ".csv")
IMAGE_COLUMN = "image"
# One invocation's share: 50 SendMessageBatch calls and a ranged GET, seconds of the submit function's minute.
CHUNK_LINES = 500
CHUNK_BYTES = 1024 * 1024
# A line longer than this is rejected (a sidecar's limit: no model's settings need more).
MAX_LINE_BYTES = 128 * 1024
# The summary keeps the first bad lines in full; past this only their count.
MAX_BAD_LINES_KEPT = 100


class ManifestRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = None

    @property
    def manifest_id(self) -> str:
        digest = hashlib.sha256("\0".join((self.bucket, self.key, self.version_id or "")).encode("utf-8"))
        return digest.hexdigest()[:32]

    @property
    def kind(self) -> Literal["jsonl", "csv"]:
        return "csv" if self.key.lower().endswith(".csv") else "jsonl"


class ManifestChunk(BaseModel):
    """`{"kind": "manifest", ...}`: read the manifest from byte `offset` (line number `line` starts there)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["manifest"] = "manifest"
    manifest: ManifestRef
    offset: int = Field(default=0, ge=0)
    line: int = Field(default=1, ge=1)
    columns: list[str] | None = None  # a CSV's header, once read


class ManifestLine(BaseModel):
    """`{"kind": "manifest_line", ...}`: one line's job (the image key and its settings)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["manifest_line"] = "manifest_line"
    manifest: ManifestRef
    line: int = Field(ge=1)
    image: str
    settings: dict[str, Any] = Field(default_factory=dict)


class BadLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    reason: str


class ManifestSummary(BaseModel):
    """The summary record of one manifest version: how far it is split, how many lines became job messages, its
    bad lines (line number -> reason; the first MAX_BAD_LINES_KEPT kept, `bad_total` counts them all)."""

    model_config = ConfigDict(extra="ignore")

    manifest_id: str
    manifest: ManifestRef
    next_offset: int = 0
    chunk_offset: int = 0  # where the last recorded chunk began
    next_line: int = 1
    lines: int = 0
    bad_lines: dict[str, str] = Field(default_factory=dict)
    bad_total: int = 0
    split_done: bool = False
    # Lines whose end is counted (their job ended, their image was missing, or their image already had a job),
    # and when every line had ended (set once).
    ended: int = 0
    completed_at: str | None = None
    announced_at: str | None = None  # when its Manifest Completed event went out

    @property
    def every_line_ended(self) -> bool:
        return self.split_done and self.ended >= self.lines


def complete_lines(data: bytes, at_end: bool) -> tuple[list[bytes], int]:
    """The whole lines in `data` (a chunk read from some offset) and how many bytes they take; the last partial
    line waits for the next chunk unless the object ends here."""
    cut = len(data) if at_end else data.rfind(b"\n") + 1
    lines = data[:cut].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines, cut


def parse_line(
    kind: Literal["jsonl", "csv"], raw: bytes, columns: list[str] | None
) -> tuple[str, dict[str, Any]] | str | None:
    """(image, settings), a reason the line is bad, or None for a blank line."""
    if len(raw) > MAX_LINE_BYTES:
        return f"the line is {len(raw)} bytes; the limit is {MAX_LINE_BYTES}"
    try:
        text = raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if not text.strip():
        return None
    values = _jsonl(text) if kind == "jsonl" else _csv(text, columns or [])
    if isinstance(values, str):
        return values
    image = values.pop(IMAGE_COLUMN, None)
    if not isinstance(image, str) or not image.strip():
        return f"no {IMAGE_COLUMN!r}: each line names its image's key"
    for name, value in values.items():
        if value is None or isinstance(value, (dict, list)):
            return f"{name!r} is not text, a number or true/false"
    return image.strip(), values


def _jsonl(text: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg} at column {error.colno})"
    return value if isinstance(value, dict) else "not a JSON object"


def _csv(text: str, columns: list[str]) -> dict[str, Any] | str:
    try:
        (row,) = list(csv.reader([text], strict=True))
    except (csv.Error, ValueError) as error:
        return f"not a CSV row ({error})"
    if len(row) != len(columns):
        return f"{len(row)} values for {len(columns)} columns"
    return {name: value for name, value in zip(columns, row, strict=True) if value != ""}


def csv_header(raw: bytes) -> list[str] | str:
    """The header row's column names, or why it cannot be one (it must name the image column)."""
    try:
        (row,) = list(csv.reader([raw.decode("utf-8-sig").rstrip("\r")], strict=True))
    except (csv.Error, ValueError, UnicodeDecodeError) as error:
        return f"the header is not a CSV row ({error})"
    names = [name.strip() for name in row]
    if IMAGE_COLUMN not in names or len(set(names)) != len(names) or "" in names:
        return f"the header must name an {IMAGE_COLUMN!r} column, each column once"
    return names


def is_manifest_key(key: str, manifest_prefix: str) -> bool:
    return key.startswith(manifest_prefix) and key.lower().endswith(MANIFEST_SUFFIXES)


def line_message(body: dict[str, Any]) -> ManifestLine:
    return ManifestLine.model_validate(body)


def chunk_message(body: dict[str, Any]) -> ManifestChunk:
    return ManifestChunk.model_validate(body)
