"""Manifests (issue 27, item 4): split one chunk of a manifest into line messages; turn one line into its job.

A chunk's lines go to the submit queue in SQS batches, then the summary records the chunk (conditional on it
being the next one), then the next chunk's message is sent: each invocation handles at most CHUNK_LINES lines.
A chunk delivered again finds the summary moved on and only makes sure the chunk after it was sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from i2v.domain.manifest import (
    CHUNK_BYTES,
    CHUNK_LINES,
    MANIFEST_SUFFIXES,
    MAX_BAD_LINES_KEPT,
    BadLine,
    ManifestChunk,
    ManifestLine,
    complete_lines,
    csv_header,
    parse_line,
)
from i2v.domain.record import ManifestLineRef
from i2v.domain.source import SIDECAR_SUFFIX, SourceObject
from i2v.services.manifest_tally import end_line, settle
from i2v.services.ports import ImageStoragePort, ManifestSummaryPort, MessageBatchPort, PublisherPort
from i2v.services.submit import SubmitService
from i2v.services.submit_result import SubmitOutcome, SubmitResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitResult:
    manifest_id: str
    lines: int
    bad: int
    done: bool
    repeated: bool = False


@dataclass
class ManifestSplitter:
    images: ImageStoragePort
    queue: MessageBatchPort
    summaries: ManifestSummaryPort
    publisher: PublisherPort
    input_prefix: str
    manifest_prefix: str

    def split(self, chunk: ManifestChunk) -> SplitResult:
        ref = chunk.manifest
        summary = self.summaries.get(ref.manifest_id)
        if summary is not None and (summary.split_done or summary.next_offset != chunk.offset):
            # Delivered again: already split. If this was the last chunk recorded, the one after it may never have
            # been sent (the invocation died after recording): send it. An older chunk's copy sends nothing, so one
            # redelivery never echoes down the rest of the manifest.
            if not summary.split_done and summary.chunk_offset == chunk.offset:
                self.queue.send_batch([self._next(chunk, summary.next_offset, summary.next_line, chunk.columns)])
            return SplitResult(ref.manifest_id, 0, 0, summary.split_done, repeated=True)
        info = self.images.head(ref.bucket, ref.key, ref.version_id)
        size = info.size if info is not None else 0
        data = self.images.read_range(ref.bucket, ref.key, ref.version_id, chunk.offset, CHUNK_BYTES) if size else b""
        at_end = chunk.offset + len(data) >= size
        raw_lines, used = complete_lines(data, at_end)
        bad: list[BadLine] = []
        if not raw_lines and not at_end:  # no line end in a whole chunk: nothing sensible can follow
            bad.append(BadLine(line=chunk.line, reason=f"no line end within {CHUNK_BYTES} bytes; the split stops"))
            used, at_end = len(data), True
        if info is None:
            bad.append(BadLine(line=chunk.line, reason="the manifest no longer exists"))
        taken = raw_lines[:CHUNK_LINES]
        if len(taken) < len(raw_lines):
            used, at_end = sum(len(raw) + 1 for raw in taken), False
        columns = chunk.columns
        messages: list[dict[str, object]] = []
        for number, raw in enumerate(taken, start=chunk.line):
            if ref.kind == "csv" and columns is None:
                header = csv_header(raw)
                if isinstance(header, str):
                    bad.append(BadLine(line=number, reason=header))
                    used, at_end = len(data), True  # without columns no row can be read
                    break
                columns = header
                continue
            parsed = parse_line(ref.kind, raw, columns)
            if parsed is None:
                continue
            if isinstance(parsed, str) or (reason := self._image_refused(parsed[0])):
                bad.append(BadLine(line=number, reason=parsed if isinstance(parsed, str) else reason))
                continue
            image, settings = parsed
            line = ManifestLine(manifest=ref, line=number, image=image, settings=settings)
            messages.append(line.model_dump(mode="json"))
        next_line = chunk.line + len(taken)
        self.queue.send_batch(messages)
        kept = len(summary.bad_lines) if summary else 0
        recorded = self.summaries.record_chunk(
            ref,
            chunk.offset,
            chunk.offset + used,
            next_line,
            len(messages),
            bad[: max(0, MAX_BAD_LINES_KEPT - kept)],
            len(bad),
            at_end,
        )
        if recorded and not at_end:
            self.queue.send_batch([self._next(chunk, chunk.offset + used, next_line, columns)])
        if at_end:  # lines may all have ended already (or there were none)
            settle(self.summaries, self.publisher, ref.manifest_id)
        for refused in bad:
            logger.info("manifest %s line %d rejected: %s", ref.key, refused.line, refused.reason)
        return SplitResult(ref.manifest_id, len(messages), len(bad), at_end, repeated=not recorded)

    def _image_refused(self, image: str) -> str:
        parts = image.split("/")
        if ".." in parts or not image.startswith((self.input_prefix, self.manifest_prefix)):
            return f"image {image!r} must be a key under {self.input_prefix!r} or {self.manifest_prefix!r}"
        if image.lower().endswith((SIDECAR_SUFFIX, *MANIFEST_SUFFIXES)) or image.endswith("/"):
            return f"image {image!r} names a sidecar, a manifest or a folder, not an image"
        return ""

    @staticmethod
    def _next(chunk: ManifestChunk, offset: int, line: int, columns: list[str] | None) -> dict[str, object]:
        following = ManifestChunk(manifest=chunk.manifest, offset=offset, line=line, columns=columns)
        return following.model_dump(mode="json")


def submit_line(service: SubmitService, summaries: ManifestSummaryPort, line: ManifestLine) -> SubmitResult:
    """One line's job: the image's own job (its version now), carrying the line's settings as its sidecar layer."""
    bucket = line.manifest.bucket
    info = service.images.head(bucket, line.image, None)
    manifest_id = line.manifest.manifest_id
    if info is None:
        reason = f"no image {line.image!r}"
        summaries.add_bad_line(manifest_id, BadLine(line=line.line, reason=reason))
        end_line(summaries, service.publisher, manifest_id, line.line, reason)
        return SubmitResult(SubmitOutcome.REJECTED, None)
    source = SourceObject(
        bucket=bucket, key=line.image, version_id=info.version_id, etag=info.etag, sequencer="0", size=info.size
    )
    result = service.submit_source(source, line)
    if result.outcome in (SubmitOutcome.DUPLICATE, SubmitOutcome.SUPERSEDED):
        job = service.repo.get(result.job_id) if result.job_id else None
        if job is None or job.manifest_line != ManifestLineRef.of(line):
            # Its image already has a job from elsewhere (its own upload, another line or manifest): this line
            # ends here; that job is counted where it came from.
            end_line(summaries, service.publisher, manifest_id, line.line, f"{result.outcome}: job {result.job_id}")
    return result
