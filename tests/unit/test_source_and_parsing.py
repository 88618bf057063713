import json
from pathlib import Path

import pytest

from i2v.domain.image_check import ImageFormat, describe_unsupported, detect_image_format
from i2v.domain.source import KeyScope, SourceObject, ignore_reason, job_id_for, output_key_for, padded_sequencer
from i2v.handlers.parsing import Ignore, MalformedMessageError, Resume, Upload, commands_from_body

EVENTS = Path(__file__).parents[2] / "events"
SCOPE = KeyScope("incoming/", "out-bucket", "videos/")


def body_of(name: str) -> str:
    return json.loads((EVENTS / name).read_text())["Records"][0]["body"]


@pytest.mark.parametrize("name", ["submit_sqs_s3_encoded_key.json", "submit_sqs_s3_encoded_key_slash.json"])
def test_keys_are_decoded_exactly_once(name):
    (command,) = commands_from_body(body_of(name), SCOPE)
    assert isinstance(command, Upload)
    assert command.source.key == "incoming/a b+c/ñ%25 (1).jpg"


def test_test_event_and_folder_marker_are_ignored():
    assert commands_from_body(body_of("submit_sqs_s3_test_event.json"), SCOPE) == [Ignore("s3:TestEvent")]
    (marker,) = commands_from_body(body_of("submit_sqs_s3_folder_marker.json"), SCOPE)
    assert isinstance(marker, Ignore)
    assert marker.reason == "folder marker"


def test_retry_message_becomes_resume():
    assert commands_from_body(body_of("submit_sqs_retry.json"), SCOPE) == [Resume("5d41402abc4b2a76b9719d911017c592")]


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"hello": 1}', '{"Records": [{"eventName": "ObjectCreated:Put"}]}']
)
def test_malformed_bodies_raise(body):
    with pytest.raises(MalformedMessageError):
        commands_from_body(body, SCOPE)


def test_ignore_rules_keep_the_pipeline_from_feeding_itself():
    same_bucket = KeyScope("", "shared", "videos/")
    assert ignore_reason("shared", "videos/cat.abc.mp4", same_bucket) == "inside the output location"
    assert ignore_reason("in", "other/cat.jpg", SCOPE) == "outside the input prefix"
    assert ignore_reason("in", "incoming/", SCOPE) == "folder marker"
    assert ignore_reason("in", "incoming/cat.jpg", SCOPE) is None
    # A settings sidecar (issue 27) starts no job, should its notification ever arrive.
    assert ignore_reason("in", "incoming/cat.json", SCOPE) == "settings sidecar"
    assert ignore_reason("in", "incoming/cat.JSON", SCOPE) == "settings sidecar"


def _source(**changes):
    values = {"bucket": "b", "key": "incoming/cat.jpg", "version_id": "v1", "etag": "e", "sequencer": "01", "size": 5}
    return SourceObject(**{**values, **changes})


def test_job_id_is_deterministic_per_version():
    assert job_id_for(_source()) == job_id_for(_source(sequencer="99"))
    assert job_id_for(_source()) != job_id_for(_source(version_id="v2"))
    unversioned = _source(version_id=None)
    assert job_id_for(unversioned) != job_id_for(_source(version_id=None, sequencer="02"))
    assert len(job_id_for(_source())) == 32


def test_sequencers_compare_after_padding():
    assert padded_sequencer("9") < padded_sequencer("0A")
    assert padded_sequencer("0062E99A88DC407460") < padded_sequencer("0062E99A88DC407461")


def test_output_key_is_derived_from_source_key_and_job():
    assert output_key_for("incoming/pets/cat.jpg", "abc", "incoming/", "videos/") == "videos/pets/cat.abc.mp4"
    assert output_key_for("incoming/noext", "abc", "incoming/", "videos/") == "videos/noext.abc.mp4"


def test_image_sniffing_ignores_the_name():
    assert detect_image_format(b"\xff\xd8\xff\xe0rest") == ImageFormat.JPEG
    assert detect_image_format(b"\x89PNG\r\n\x1a\nrest") == ImageFormat.PNG
    assert detect_image_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ImageFormat.WEBP
    assert detect_image_format(b"GIF89a....") is None
    assert "GIF" in describe_unsupported(b"GIF89a....")
    assert "HEIC" in describe_unsupported(b"\x00\x00\x00\x18ftypheic")
