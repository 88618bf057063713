"""Turns SQS message bodies into commands for the submit service; knows S3's notification formats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from i2v.domain.manifest import ManifestChunk, ManifestLine, ManifestRef, is_manifest_key
from i2v.domain.source import KeyScope, SourceObject, decode_s3_key, ignore_reason


class MalformedMessageError(ValueError):
    """The body is neither an S3 notification nor one of our own commands; SQS will dead-letter it."""


@dataclass(frozen=True)
class Upload:
    source: SourceObject


@dataclass(frozen=True)
class Resume:
    job_id: str


@dataclass(frozen=True)
class Reconcile:
    """Look for an ambiguous submission in GMI's request list (`now`: without waiting for it to settle)."""

    job_id: str
    now: bool = False


@dataclass(frozen=True)
class Ignore:
    reason: str
    key: str | None = None


@dataclass(frozen=True)
class Split:
    """A chunk of a manifest to split into line messages (its upload's notification is the first chunk)."""

    chunk: ManifestChunk


@dataclass(frozen=True)
class Line:
    """One manifest line's job."""

    line: ManifestLine


Command = Upload | Resume | Reconcile | Ignore | Split | Line


def commands_from_body(body: str, scope: KeyScope) -> list[Command]:
    try:
        message: Any = json.loads(body)
    except json.JSONDecodeError:
        raise MalformedMessageError("message body is not JSON") from None
    if not isinstance(message, dict):
        raise MalformedMessageError("message body is not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return [Ignore("s3:TestEvent")]
    if message.get("kind") in ("resume", "retry") and isinstance(message.get("job_id"), str):
        return [Resume(message["job_id"])]
    if message.get("kind") == "reconcile" and isinstance(message.get("job_id"), str):
        return [Reconcile(message["job_id"], now=message.get("now") is True)]
    if message.get("kind") in ("manifest", "manifest_line"):
        try:
            if message["kind"] == "manifest":
                return [Split(ManifestChunk.model_validate(message))]
            return [Line(ManifestLine.model_validate(message))]
        except ValidationError as error:
            raise MalformedMessageError(f"{message['kind']} message: {error.errors()[0]['msg']}") from None
    records = message.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedMessageError("message is not an S3 event notification")
    return [_command_for(record, scope) for record in records]


# S3's notification record read as plain JSON (event message structure, version 2.x); Powertools' S3Event would
# import every event source's data classes at cold start (see handlers/sqs_batch.py).
def _command_for(record: Any, scope: KeyScope) -> Command:
    try:
        event_name = record["eventName"]
        if not event_name.startswith("ObjectCreated:"):
            return Ignore(f"event {event_name}")
        s3_object = record["s3"]["object"]
        bucket = record["s3"]["bucket"]["name"]
        key = decode_s3_key(s3_object["key"])  # S3 sends the key URL-encoded
        if is_manifest_key(key, scope.manifest_prefix):
            ref = ManifestRef(bucket=bucket, key=key, version_id=s3_object.get("versionId") or None)
            return Split(ManifestChunk(manifest=ref))
        reason = ignore_reason(bucket, key, scope)
        if reason:
            return Ignore(reason, key)
        source = SourceObject(
            bucket=bucket,
            key=key,
            version_id=s3_object.get("versionId") or None,
            etag=(s3_object.get("eTag") or "").strip('"'),
            sequencer=s3_object.get("sequencer") or "0",
            size=int(s3_object.get("size") or 0),
        )
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise MalformedMessageError(f"S3 record is missing {error}") from None
    return Upload(source)
