"""The seed's request contract: auth, validation (400 naming the field), defaults, response shapes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from i2v_local.simulator import DEFAULT_MODEL, GmiSimulator, Timing, validate_request
from i2v_local.simulator.contract import DEFAULTS

from .conftest import Api


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic sim-key"}, {"Authorization": "Bearer "}],
)
def test_post_without_valid_bearer_is_401(api: Api, sim: GmiSimulator, headers: dict[str, str]) -> None:
    response = api.post(auth=False, headers=headers)
    assert response.status_code == 401
    assert "API key" in response.json()["error"]
    assert sim.post_count == 0


def test_get_without_auth_is_401(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    response = requests.get(f"{sim.requests_url}/{rid}", verify=sim.verify, timeout=5)
    assert response.status_code == 401


def test_minimal_request_gets_seed_defaults_and_response_shape(api: Api, sim: GmiSimulator) -> None:
    response = api.post()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "org_id", "model", "status", "payload", "created_at", "updated_at", "queued_at"}
    assert uuid.UUID(body["request_id"]).version == 4
    assert body["model"] == DEFAULT_MODEL
    assert body["status"] == "queued"
    assert isinstance(body["created_at"], int)
    assert body["updated_at"] == body["created_at"]
    assert body["payload"] == {
        "image_url": api.image_url,  # echoed with its query string, like the real service
        "prompt": "slow zoom",
        "negative_prompt": "",
        "duration": "5",
        "aspect_ratio": "16:9",
        "quality": "540p",
        "style": "none",
        "thinking_type": "auto",
        "generate_audio_switch": False,
        "generate_multi_clip_switch": False,
    }
    assert sim.post_count == 1
    assert sim.jobs[body["request_id"]].payload == body["payload"]


def test_full_request_is_echoed(api: Api) -> None:
    settings: dict[str, Any] = {
        "negative_prompt": "distorted face",
        "duration": "8",
        "aspect_ratio": "9:16",
        "quality": "1080p",
        "style": "cyberpunk",
        "thinking_type": "enabled",
        "generate_audio_switch": True,
        "generate_multi_clip_switch": True,
        "seed": 42,
    }
    body = api.post(**settings).json()
    assert body["payload"] == {"image_url": api.image_url, "prompt": "slow zoom", **settings}


@pytest.mark.parametrize(("given", "stored"), [(5, "5"), (8, "8"), (10, "10"), ("10", "10")])
def test_duration_accepts_string_and_integer_forms(api: Api, given: Any, stored: str) -> None:
    assert api.post(duration=given).json()["payload"]["duration"] == stored


@pytest.mark.parametrize("seed", [0, 2147483647])
def test_seed_bounds_are_inclusive(api: Api, seed: int) -> None:
    assert api.post(seed=seed).json()["payload"]["seed"] == seed


@pytest.mark.parametrize(("duration", "quality"), [("10", "720p"), ("8", "1080p"), ("5", "1080p")])
def test_allowed_duration_quality_pairs(api: Api, duration: str, quality: str) -> None:
    assert api.post(duration=duration, quality=quality).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"duration": "10", "quality": "1080p"}, "unavailable at quality"),
        ({"duration": 10, "quality": "1080p"}, "unavailable at quality"),
        ({"duration": "6"}, "payload.duration"),
        ({"duration": 6}, "payload.duration"),
        ({"duration": True}, "payload.duration"),
        ({"duration": 5.0}, "payload.duration"),
        ({"duration": None}, "payload.duration"),
        ({"aspect_ratio": "21:9"}, "payload.aspect_ratio"),
        ({"aspect_ratio": None}, "payload.aspect_ratio"),
        ({"quality": "4k"}, "payload.quality"),
        ({"quality": "540P"}, "payload.quality"),
        ({"style": "noir"}, "payload.style"),
        ({"thinking_type": "maybe"}, "payload.thinking_type"),
        ({"generate_audio_switch": "true"}, "payload.generate_audio_switch"),
        ({"generate_multi_clip_switch": 1}, "payload.generate_multi_clip_switch"),
        ({"seed": -1}, "payload.seed"),
        ({"seed": 2147483648}, "payload.seed"),
        ({"seed": True}, "payload.seed"),
        ({"seed": "5"}, "payload.seed"),
        ({"seed": 1.5}, "payload.seed"),
        ({"negative_prompt": 3}, "payload.negative_prompt"),
        ({"prompt": ""}, "payload.prompt"),
        ({"prompt": "   "}, "payload.prompt"),
        ({"prompt": None}, "payload.prompt"),
        ({"image_url": "ftp://example.com/a.png"}, "payload.image_url"),
        ({"image_url": "not a url"}, "payload.image_url"),
        ({"image_url": 7}, "payload.image_url"),
        ({"webhook": "https://example.com"}, "unknown field(s): webhook"),
    ],
)
def test_invalid_payload_is_400_naming_the_field(
    api: Api, sim: GmiSimulator, payload: dict[str, Any], field: str
) -> None:
    response = api.post(**payload)
    assert response.status_code == 400, response.text
    error = response.json()
    assert field in error["error"]
    assert any(field in e for e in error["errors"])
    assert sim.post_count == 0


def test_enum_errors_list_the_allowed_values(api: Api) -> None:
    message = api.post(aspect_ratio="2:1").json()["error"]
    for value in ("16:9", "9:16", "1:1", "4:3", "3:4"):
        assert value in message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"payload": {"image_url": "https://x.test/a.png", "prompt": "p"}}, "model: required"),
        ({"model": "pixverse-v9", "payload": {"image_url": "https://x.test/a.png", "prompt": "p"}}, "unknown model"),
        ({"model": DEFAULT_MODEL}, "payload: required"),
        ({"model": DEFAULT_MODEL, "payload": "x"}, "payload: required"),
        ({"model": DEFAULT_MODEL, "payload": {"prompt": "p"}}, "payload.image_url: required"),
        ({"model": DEFAULT_MODEL, "payload": {"image_url": "https://x.test/a.png"}}, "payload.prompt: required"),
        ([1, 2], "body: must be a JSON object"),
        (
            {"model": DEFAULT_MODEL, "payload": {"image_url": "https://x.test/a", "prompt": "p"}, "extra": 1},
            "unknown field(s): extra",
        ),
    ],
)
def test_invalid_body_is_400(api: Api, body: Any, fragment: str) -> None:
    response = api.post(body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_non_json_body_is_400(sim: GmiSimulator, api: Api) -> None:
    response = requests.post(sim.requests_url, data=b"{not json", headers=api.auth, verify=sim.verify, timeout=5)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_get_unknown_request_is_404(api: Api) -> None:
    assert api.get(str(uuid.uuid4())).status_code == 404


def test_wrong_methods_and_paths(sim: GmiSimulator, api: Api) -> None:
    rid = api.submit()
    get_collection = requests.get(sim.requests_url, headers=api.auth, verify=sim.verify, timeout=5)
    assert get_collection.status_code == 400  # the request list needs ?model_id=
    delete_collection = requests.delete(sim.requests_url, headers=api.auth, verify=sim.verify, timeout=5)
    assert delete_collection.status_code == 405
    assert delete_collection.headers["Allow"] == "GET, POST"
    post_item = requests.post(f"{sim.requests_url}/{rid}", headers=api.auth, verify=sim.verify, timeout=5)
    assert post_item.status_code == 405
    other = requests.get(f"{sim.base_url}/api/v1/other", headers=api.auth, verify=sim.verify, timeout=5)
    assert other.status_code == 404


def test_extra_model_ids_can_be_configured(images: Any) -> None:
    with GmiSimulator(timing=Timing.zero(), models=(DEFAULT_MODEL, "pixverse-v6-i2v"), tls=False) as sim:
        api = Api(sim, images.url())
        body = api.body()
        body["model"] = "pixverse-v6-i2v"
        assert api.post(body).json()["model"] == "pixverse-v6-i2v"


def test_strict_required_mode_enforces_the_seeds_required_column(images: Any) -> None:
    with GmiSimulator(timing=Timing.zero(), strict_required=True, tls=False) as sim:
        api = Api(sim, images.url())
        response = api.post()
        assert response.status_code == 400
        for name in ("duration", "aspect_ratio", "quality"):
            assert f"payload.{name}: required" in response.json()["errors"]
        assert api.post(duration="5", aspect_ratio="1:1", quality="360p").status_code == 200


def test_validate_request_returns_resolved_payload() -> None:
    model, payload = validate_request(
        {"model": DEFAULT_MODEL, "payload": {"image_url": "https://x.test/a.png", "prompt": "p"}}
    )
    assert model == DEFAULT_MODEL
    assert payload == {"image_url": "https://x.test/a.png", "prompt": "p", **DEFAULTS}
