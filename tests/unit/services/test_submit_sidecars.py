"""The submit service reads an image's settings sidecar (issue 27, item 3) through the image storage port: found
beside the image or named by its `settings` metadata, refused before anything is paid, pinned to the version read."""

from __future__ import annotations

import json
from typing import Any

from i2v.domain.jobs import JobStatus
from i2v.domain.record import JobRecord
from i2v.domain.source import SourceObject
from i2v.services.submit import SubmitOutcome
from i2v_events.v1 import DetailType
from support.fakes import Fakes
from support.submit_service import BUCKET, job_of, submit_env, submit_service

IMAGE = "incoming/cat.png"


def _sidecar(fakes: Fakes, settings: Any, key: str = "incoming/cat.json", version: str = "s1") -> None:
    body = settings if isinstance(settings, bytes) else json.dumps(settings).encode()
    fakes.images.add(BUCKET, key, body=body, version_id=version)


def _image(fakes: Fakes, **metadata: str) -> SourceObject:
    fakes.images.add(BUCKET, IMAGE, metadata=metadata)
    return SourceObject(bucket=BUCKET, key=IMAGE, version_id="v1", etag="e", sequencer="0A", size=72)


def _rejected(fakes: Fakes, source: SourceObject) -> JobRecord:
    job = job_of(fakes, source)
    assert job.status == JobStatus.REJECTED
    assert job.failure is not None
    assert job.failure.category == "invalid_settings"
    assert fakes.gmi.submitted == []  # nothing paid
    assert fakes.publisher.detail_types() == [DetailType.FAILED]
    return job


def test_the_sidecar_beside_the_image_carries_a_3000_character_prompt_to_a_model_that_allows_it(
    fakes: Fakes,
) -> None:
    prompt = ("the lighthouse beam sweeps across a restless sea " * 62)[:3000]
    _sidecar(fakes, {"model": "pixverse-v6-i2v", "prompt": prompt, "duration": 8})
    source = _image(fakes)

    result = submit_service(fakes).submit_source(source)

    assert result.outcome == SubmitOutcome.SUBMITTED
    ((payload, model),) = zip(fakes.gmi.submitted, fakes.gmi.submitted_models, strict=True)
    assert (model, payload["prompt"], payload["duration"]) == ("pixverse-v6-i2v", prompt, 8)
    job = job_of(fakes, source)
    assert job.sidecar is not None
    assert (job.sidecar.key, job.sidecar.version_id) == ("incoming/cat.json", "s1")


def test_metadata_beats_the_sidecar(fakes: Fakes) -> None:
    _sidecar(fakes, {"prompt": "from the sidecar", "quality": "720p"})
    submit_service(fakes).submit_source(_image(fakes, quality="1080p"))
    (payload,) = fakes.gmi.submitted
    assert (payload["prompt"], payload["quality"]) == ("from the sidecar", "1080p")


def test_a_sidecar_that_is_not_json_rejects_the_job_before_anything_is_paid(fakes: Fakes) -> None:
    _sidecar(fakes, b'{"prompt": "the cat blinks",}')
    source = _image(fakes)
    submit_service(fakes).submit_source(source)
    job = _rejected(fakes, source)
    assert job.failure is not None
    assert "settings sidecar 'incoming/cat.json' is not valid JSON" in job.failure.message
    assert job.sidecar is None  # not pinned: fix it and `i2v retry`


def test_a_sidecar_naming_an_unknown_setting_rejects_the_job(fakes: Fakes) -> None:
    _sidecar(fakes, {"prompt": "the cat blinks", "colour": "blue"})
    source = _image(fakes)
    submit_service(fakes).submit_source(source)
    job = _rejected(fakes, source)
    assert job.failure is not None
    assert "'colour'" in job.failure.message
    assert "incoming/cat.json" in job.failure.message


def test_metadata_names_the_sidecar_and_a_missing_one_rejects_rather_than_running_on_defaults(fakes: Fakes) -> None:
    _sidecar(fakes, {"prompt": "shared"}, key="incoming/settings/slow.json")
    submit_service(fakes).submit_source(_image(fakes, settings="incoming/settings/slow.json"))
    assert fakes.gmi.submitted[0]["prompt"] == "shared"

    fakes.images.add(BUCKET, "incoming/dog.png", metadata={"settings": "dog.json"})
    dog = SourceObject(bucket=BUCKET, key="incoming/dog.png", version_id="v1", etag="e", sequencer="0B", size=72)
    submit_service(fakes).submit_source(dog)
    job = job_of(fakes, dog)
    assert job.status == JobStatus.REJECTED
    assert job.failure is not None
    assert "'incoming/dog.json' does not exist: upload it before the image" in job.failure.message


def test_without_a_sidecar_the_layers_are_as_before(fakes: Fakes) -> None:
    source = _image(fakes, prompt="no sidecar")
    submit_service(fakes).submit_source(source)
    assert fakes.gmi.submitted[0]["prompt"] == "no sidecar"
    assert job_of(fakes, source).sidecar is None


def test_a_sidecar_changed_after_the_job_read_it_does_not_change_that_job(fakes: Fakes) -> None:
    """Pinned: the job is deferred (daily cap), the sidecar is overwritten, the job resumes with what it read."""
    service = submit_service(fakes, env=submit_env(DAILY_SUBMISSION_CAP="1", BUDGET_EXCEEDED_ACTION="defer"))
    fakes.repo.budget[service._today().strftime("%Y-%m-%d")] = 1  # today's one submission is taken
    _sidecar(fakes, {"prompt": "first words"})
    source = _image(fakes)
    assert service.submit_source(source).outcome == SubmitOutcome.DEFERRED
    _sidecar(fakes, {"prompt": "second thoughts"}, version="s2")
    fakes.repo.budget.clear()

    assert service.resume_job(job_of(fakes, source).job_id).outcome == SubmitOutcome.SUBMITTED
    assert fakes.gmi.submitted[0]["prompt"] == "first words"
