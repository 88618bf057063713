"""The source image: which S3 notifications start a job, and the job's deterministic identity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import unquote_plus

SEQUENCER_WIDTH = 32
# Settings sidecars (i2v.domain.sidecar) live beside the images and start no job.
SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class SourceObject:
    """An uploaded object as its notification describes it; `key` is already decoded (exactly once)."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    sequencer: str
    size: int

    @property
    def source_id(self) -> str:
        return f"{self.bucket}/{self.key}"


@dataclass(frozen=True)
class KeyScope:
    """Where uploads are taken from and where videos are written, so the pipeline never feeds itself."""

    input_prefix: str
    output_bucket: str
    output_prefix: str
    manifest_prefix: str = "manifests/"


def decode_s3_key(raw_key: str) -> str:
    """Notification keys are form-encoded ('+' is a space, '%2B' a plus); decode once, never again."""
    return unquote_plus(raw_key, encoding="utf-8", errors="strict")


def ignore_reason(bucket: str, key: str, scope: KeyScope) -> str | None:
    """Why this key must not start a job, or None when it should."""
    if key.endswith("/"):
        return "folder marker"
    if bucket == scope.output_bucket and key.startswith(scope.output_prefix):
        return "inside the output location"
    if not key.startswith(scope.input_prefix):
        return "outside the input prefix"
    if not key[len(scope.input_prefix) :].strip():
        return "empty name"
    if key.lower().endswith(SIDECAR_SUFFIX):
        return "settings sidecar"
    return None


def job_id_for(source: SourceObject) -> str:
    """Stable per object version: a re-delivered event maps to the same job, a new upload to a new one."""
    version = source.version_id or f"{source.etag}:{source.sequencer}"
    digest = hashlib.sha256("\0".join((source.bucket, source.key, version)).encode("utf-8"))
    return digest.hexdigest()[:32]


def padded_sequencer(sequencer: str) -> str:
    """S3 sequencers compare as hex strings only at equal length (S3 docs), so left-pad them."""
    return sequencer.upper().rjust(SEQUENCER_WIDTH, "0")


def relative_key(key: str, input_prefix: str) -> str:
    return key[len(input_prefix) :] if key.startswith(input_prefix) else key


def output_key_for(source_key: str, job_id: str, input_prefix: str, output_prefix: str) -> str:
    """videos/<path under the input prefix without its extension>.<job id>.mp4: readable and unique."""
    stem = relative_key(source_key, input_prefix)
    name, dot, extension = stem.rpartition(".")
    if dot and "/" not in extension:
        stem = name
    return f"{output_prefix}{stem}.{job_id}.mp4"
