"""The request contract: auth, validation per catalog model (400 naming the field), defaults, response shapes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from i2v.domain import catalog
from i2v_local.simulator import DEFAULT_MODEL, GmiSimulator, Timing, validate_request
from i2v_local.simulator.contract import render_plan

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


@pytest.mark.parametrize("given", ["5", "8", "10"])
def test_duration_is_the_documented_string_enum(api: Api, given: str) -> None:
    assert api.post(duration=given).json()["payload"]["duration"] == given
    assert api.post(duration=int(given)).status_code == 400  # "5" is not 5: the catalog keeps GMI's types


@pytest.mark.parametrize("seed", [0, 2147483647])
def test_seed_bounds_are_inclusive(api: Api, seed: int) -> None:
    assert api.post(seed=seed).json()["payload"]["seed"] == seed


@pytest.mark.parametrize(("duration", "quality"), [("10", "720p"), ("8", "1080p"), ("5", "1080p")])
def test_allowed_duration_quality_pairs(api: Api, duration: str, quality: str) -> None:
    assert api.post(duration=duration, quality=quality).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"duration": "10", "quality": "1080p"}, "not available at quality"),
        ({"duration": 10, "quality": "1080p"}, "payload.duration"),
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
        ({"image": "https://example.com/a.png"}, "unknown field(s): image"),  # pixverse v6's name, not v5.5's
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
        ({"model": DEFAULT_MODEL, "payload": {"image_url": "https://x.test/a.png"}}, "prompt is required"),
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


def test_extra_model_ids_can_be_configured_with_the_default_models_contract(images: Any) -> None:
    with GmiSimulator(timing=Timing.zero(), models=(DEFAULT_MODEL, "pixverse-v5.6-i2v"), tls=False) as sim:
        api = Api(sim, images.url())
        body = api.body()
        body["model"] = "pixverse-v5.6-i2v"
        assert api.post(body).json()["model"] == "pixverse-v5.6-i2v"
        body["payload"]["duration"] = "10"
        body["payload"]["quality"] = "1080p"
        assert "pixverse-v5.6-i2v" in api.post(body).json()["error"]


def _documented_example(model_id: str, image_url: str) -> dict[str, Any]:
    model = catalog.get(model_id)
    image: Any = [image_url] if model.IMAGE_SHAPE == "list" else image_url
    return {model.IMAGE_FIELD: image, "prompt": "slow zoom"}


@pytest.mark.parametrize("model_id", catalog.ids())
def test_every_catalog_model_is_served_with_its_own_contract(api: Api, model_id: str) -> None:
    model = catalog.get(model_id)
    body = {"model": model_id, "payload": _documented_example(model_id, api.image_url)}
    accepted = api.post(body).json()
    assert accepted["model"] == model_id
    assert accepted["payload"][model.IMAGE_FIELD] == body["payload"][model.IMAGE_FIELD]
    assert accepted["payload"][model.DURATION_FIELD] == model.model_fields[model.DURATION_FIELD].default
    # A field of another model is refused by name; so is the wrong JSON type for the duration.
    foreign = {**body["payload"], "aspect_ratio_of_another_model": "16:9"}
    refused = api.post({"model": model_id, "payload": foreign})
    assert refused.status_code == 400
    assert "aspect_ratio_of_another_model" in refused.json()["error"]
    default = model.model_fields[model.DURATION_FIELD].default
    wrong_type = int(default) if isinstance(default, str) else str(default)
    refused = api.post({"model": model_id, "payload": {**body["payload"], model.DURATION_FIELD: wrong_type}})
    assert refused.status_code == 400
    assert f"payload.{model.DURATION_FIELD}" in refused.json()["error"]
    assert model_id in refused.json()["error"]


@pytest.mark.parametrize(
    ("model_id", "payload", "fragment"),
    [
        ("Minimax-Hailuo-2.3-Fast", {"resolution": "1080P", "duration": 10}, '"512P", "768P"'),
        ("wan2.6-i2v", {"resolution": "1080p"}, '"720P", "1080P"'),
        ("kling-v2-6", {"sound": "yes"}, '"on", "off"'),
        ("veo-3.1-fast-generate-001", {"durationSeconds": "8"}, "4, 6, 8"),
        ("kling-v3-image-to-video", {"image_tail": "ftp://x/end.png"}, "payload.image_tail"),
        ("vidu-q3-pro-i2v", {"duration": 17}, "integer 1-16"),
    ],
)
def test_model_rules_are_enforced(api: Api, model_id: str, payload: dict[str, Any], fragment: str) -> None:
    body = {"model": model_id, "payload": {**_documented_example(model_id, api.image_url), **payload}}
    response = api.post(body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_render_plan_follows_the_image_or_the_models_ratio() -> None:
    plan = render_plan("seedance-2-0-fast-260128", {"first_frame": "https://x/a.png", "last_frame": "https://x/b.png"})
    assert (plan.image_url, plan.end_frame_url, plan.aspect_ratio, plan.seconds) == (
        "https://x/a.png",
        "https://x/b.png",
        "16:9",
        5,
    )
    assert render_plan("wan2.6-i2v", {"img_url": "https://x/a.png", "duration": 15}).aspect_ratio is None
    assert render_plan("wan2.6-i2v", {"img_url": "https://x/a.png", "duration": 15}).seconds == 15


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
    defaults = catalog.get(DEFAULT_MODEL).model_validate({"prompt": "p"}).model_dump(exclude_none=True)
    assert payload == {"image_url": "https://x.test/a.png", **defaults}
