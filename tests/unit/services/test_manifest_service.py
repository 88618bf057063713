"""Manifests on the fakes (issue 27, item 4): split in chunks, one job per good line, bad lines rejected with their
line number, every message delivered twice and the manifest uploaded again without paying anything twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from i2v.domain.jobs import Failure, FailureCategory, JobStatus
from i2v.domain.manifest import ManifestChunk, ManifestLine, ManifestRef, ManifestSummary
from i2v.services import manifest as manifest_service
from i2v.services.failure import FailureService
from i2v.services.manifest import ManifestSplitter, submit_line
from i2v.services.submit import SubmitService
from i2v_events import ManifestCompleted
from support.fakes import Fakes
from support.submit_service import BUCKET, submit_service

BAD = {7: "not valid JSON", 19: "no 'image'", 23: "must be a key under", 31: "is not text, a number"}


def _jsonl(fakes: Fakes, count: int = 50, missing: int | None = 40) -> bytes:
    lines = []
    for number in range(1, count + 1):
        key = f"manifests/batch/img{number:03}.png"
        if number != missing:
            fakes.images.add(BUCKET, key, version_id="v1")
        lines.append(json.dumps({"image": key, "prompt": f"scene {number}", "duration": 5}))
    lines[6] = '{"image": "manifests/batch/img007.png", "prompt": '  # 7: cut short
    if count < 50:
        return ("\n".join(lines) + "\n").encode()
    lines[18] = '{"prompt": "who am I"}'  # 19: no image
    lines[22] = '{"image": "../secrets/cat.png"}'  # 23: outside the input and manifest prefixes
    lines[30] = '{"image": "manifests/batch/img031.png", "seed": [1, 2]}'  # 31: a list
    lines[11] = ""  # 12: a blank line is skipped, not counted
    return ("\n".join(lines) + "\n").encode()


def _run(fakes: Fakes, service: SubmitService, ref: ManifestRef, deliveries: int = 2) -> None:
    """The submit queue, drained: every message handled `deliveries` times (SQS delivers at least once)."""
    splitter = ManifestSplitter(
        fakes.images, fakes.batches, fakes.summaries, fakes.publisher, "incoming/", "manifests/"
    )
    pending: list[dict[str, Any]] = [ManifestChunk(manifest=ref).model_dump(mode="json")]
    while pending:
        body = pending.pop(0)
        for _ in range(deliveries):
            if body["kind"] == "manifest":
                splitter.split(ManifestChunk.model_validate(body))
            else:
                submit_line(service, fakes.summaries, ManifestLine.model_validate(body))
            pending.extend(fakes.batches.take())


def _summary(fakes: Fakes, ref: ManifestRef) -> ManifestSummary:
    summary = fakes.summaries.get(ref.manifest_id)
    assert summary is not None
    return summary


def test_a_50_line_manifest_makes_one_job_per_good_line_and_names_each_bad_line(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_service, "CHUNK_LINES", 20)  # three chunks, each its own message
    fakes.images.add(BUCKET, "manifests/batch.jsonl", body=_jsonl(fakes), version_id="m1")
    ref = ManifestRef(bucket=BUCKET, key="manifests/batch.jsonl", version_id="m1")
    service = submit_service(fakes)

    _run(fakes, service, ref)

    summary = _summary(fakes, ref)
    assert summary.split_done
    assert summary.next_line == 51
    assert summary.lines == 45  # 50 - 1 blank - 4 bad at splitting
    assert sorted(map(int, summary.bad_lines)) == [*sorted(BAD), 40]
    for number, words in BAD.items():
        assert words in summary.bad_lines[str(number)], (number, summary.bad_lines[str(number)])
    assert summary.bad_lines["40"] == "no image 'manifests/batch/img040.png'"
    assert summary.bad_total == 5
    # 44 images, each POSTed once although every message came twice
    assert len(fakes.gmi.submitted) == 44
    assert sorted(p["prompt"] for p in fakes.gmi.submitted) == sorted(
        f"scene {n}" for n in range(1, 51) if n not in (*BAD, 12, 40)
    )
    job = next(iter(fakes.repo.jobs.values()))
    assert job["manifest_line"]["key"] == "manifests/batch.jsonl"
    assert len(fakes.images.ranges_read) == 3  # one ranged GET per chunk; duplicates read nothing


def test_the_same_manifest_uploaded_again_pays_for_nothing_twice(fakes: Fakes) -> None:
    body = _jsonl(fakes, count=10, missing=None)
    fakes.images.add(BUCKET, "manifests/batch.jsonl", body=body, version_id="m1")
    service = submit_service(fakes)
    _run(fakes, service, ManifestRef(bucket=BUCKET, key="manifests/batch.jsonl", version_id="m1"))
    paid = len(fakes.gmi.submitted)
    fakes.images.add(BUCKET, "manifests/batch.jsonl", body=body, version_id="m2")

    _run(fakes, service, ManifestRef(bucket=BUCKET, key="manifests/batch.jsonl", version_id="m2"))

    assert paid == 9  # 10 lines, line 7 bad
    assert len(fakes.gmi.submitted) == paid  # each line lands on its image's existing job


def test_a_csv_manifest_reads_its_header_and_a_line_with_an_unknown_setting_is_a_rejected_job(fakes: Fakes) -> None:
    for name in ("a", "b"):
        fakes.images.add(BUCKET, f"manifests/{name}.png", version_id="v1")
    text = 'image,prompt,quality\nmanifests/a.png,"waves, slowly",720p\nmanifests/b.png,x,9000p\nonly-one-column\n'
    fakes.images.add(BUCKET, "manifests/b.csv", body=text.encode(), version_id="m1")
    ref = ManifestRef(bucket=BUCKET, key="manifests/b.csv", version_id="m1")

    _run(fakes, submit_service(fakes), ref)

    (payload,) = fakes.gmi.submitted
    assert (payload["prompt"], payload["quality"]) == ("waves, slowly", "720p")
    rejected = [job for job in fakes.repo.jobs.values() if job["status"] == JobStatus.REJECTED]
    assert len(rejected) == 1
    assert "manifest 'manifests/b.csv' line 3" in rejected[0]["failure"]["message"]
    assert _summary(fakes, ref).bad_lines == {"4": "1 values for 3 columns"}


def test_a_csv_without_an_image_column_rejects_line_1_and_reads_no_further(fakes: Fakes) -> None:
    fakes.images.add(BUCKET, "manifests/c.csv", body=b"picture,prompt\nmanifests/a.png,x\n", version_id="m1")
    ref = ManifestRef(bucket=BUCKET, key="manifests/c.csv", version_id="m1")
    _run(fakes, submit_service(fakes), ref)
    summary = _summary(fakes, ref)
    assert summary.split_done
    assert summary.lines == 0
    assert "must name an 'image' column" in summary.bad_lines["1"]


def test_10000_lines_are_split_500_at_a_time_each_chunk_its_own_message(fakes: Fakes) -> None:
    """Within the submit function's limits: no invocation handles more than CHUNK_LINES lines or reads more than
    CHUNK_BYTES; the chunks follow one another through the queue, and a chunk delivered again sends no line."""
    prompt = "a long, slow, careful description of the motion " * 3
    body = "".join(json.dumps({"image": f"manifests/big/{n}.png", "prompt": prompt}) + "\n" for n in range(10_000))
    fakes.images.add(BUCKET, "manifests/big.jsonl", body=body.encode(), version_id="m1")
    ref = ManifestRef(bucket=BUCKET, key="manifests/big.jsonl", version_id="m1")
    splitter = ManifestSplitter(
        fakes.images, fakes.batches, fakes.summaries, fakes.publisher, "incoming/", "manifests/"
    )
    chunk: ManifestChunk | None = ManifestChunk(manifest=ref)
    previous = chunk
    invocations, lines = 0, 0
    while chunk is not None:
        first = splitter.split(chunk)
        again = splitter.split(chunk)  # delivered twice: the next chunk's message is sent again (it may be lost)
        if invocations:
            assert splitter.split(previous).lines == 0  # an older chunk's copy sends nothing at all
        previous = chunk
        assert (first.lines <= manifest_service.CHUNK_LINES, again.lines, again.repeated) == (True, 0, True)
        invocations += 1
        sent = fakes.batches.take()
        following = [body for body in sent if body["kind"] == "manifest"]
        lines += len(sent) - len(following)
        assert len(following) == (0 if first.done else 2)  # the first and its copy; the older copy sent none
        chunk = ManifestChunk.model_validate(following[0]) if following else None
    assert (invocations, lines) == (20, 10_000)
    assert all(count <= manifest_service.CHUNK_BYTES for _, _, count in fakes.images.ranges_read)
    summary = _summary(fakes, ref)
    assert (summary.split_done, summary.lines, summary.next_line, summary.bad_total) == (True, 10_000, 10_001, 0)


def test_the_manifest_is_complete_once_every_line_has_ended(fakes: Fakes) -> None:
    """Each line ends once: its job's end (here: failed by GMI, or rejected at submit), its image missing, or its
    image's job coming from elsewhere; then the summary is marked complete, once, whatever is delivered again."""
    for name in ("a", "b", "c"):
        fakes.images.add(BUCKET, f"manifests/{name}.png", version_id="v1")
    lines = [
        {"image": "manifests/a.png", "prompt": "ok"},
        {"image": "manifests/b.png", "quality": "9000p"},  # a rejected job
        {"image": "manifests/gone.png"},  # no image
        {"image": "manifests/a.png", "prompt": "again"},  # the same image: a's job
        {"image": "manifests/c.png", "prompt": "ok"},
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    fakes.images.add(BUCKET, "manifests/e.jsonl", body=body, version_id="m1")
    ref = ManifestRef(bucket=BUCKET, key="manifests/e.jsonl", version_id="m1")
    service = submit_service(fakes)
    service.manifests = fakes.summaries

    _run(fakes, service, ref)

    summary = _summary(fakes, ref)
    assert (summary.lines, summary.ended, summary.completed_at) == (5, 3, None)  # a and c still running
    failures = FailureService(repo=fakes.repo, publisher=fakes.publisher, manifests=fakes.summaries)
    running = [job_id for job_id, job in fakes.repo.jobs.items() if job["status"] == JobStatus.SUBMITTED]
    assert len(running) == 2
    failures.record(running[0], Failure(category=FailureCategory.GMI_FAILED, message="no"))
    assert _summary(fakes, ref).completed_at is None
    for _ in range(2):  # the fail function retried: counted once
        failures.record(running[1], Failure(category=FailureCategory.GMI_FAILED, message="no"))
    summary = _summary(fakes, ref)
    assert (summary.ended, summary.completed_at is not None) == (5, True)
    assert fakes.summaries.completions == [ref.manifest_id]
    (completed,) = [detail for kind, detail in fakes.publisher.events if kind == "Video Manifest Completed"]
    assert (completed["manifest_id"], completed["lines"], completed["ended"], completed["bad_lines"]) == (
        ref.manifest_id,
        5,
        5,
        1,
    )
    ManifestCompleted.model_validate(
        {
            "version": "0",
            "id": "1",
            "detail-type": "Video Manifest Completed",
            "source": "i2v.pipeline",
            "account": "1",
            "time": "2026-12-07T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": completed,
        }
    )  # the typed package reads it
    assert fakes.summaries.ended[(ref.manifest_id, 4)].startswith("duplicate: job ")
