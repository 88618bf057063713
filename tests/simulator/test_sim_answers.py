"""The simulator answers as GMI's documentation says GMI answers, in each documented variant."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from i2v_local.simulator import GmiSimulator, main
from i2v_local.simulator.routes import MODELS_PREFIX

from .conftest import Api


def test_submit_answers_dispatched_with_queued_at(api: Api) -> None:
    body = api.post(prompt="zoom [sim:submit_dispatched]").json()
    assert body["status"] == "dispatched"
    assert body["queued_at"] == body["created_at"]
    assert {"request_id", "model", "status", "created_at", "updated_at", "queued_at"} <= set(body)


def test_submit_answers_queued_by_default(api: Api) -> None:
    body = api.post().json()
    assert body["status"] == "queued"
    assert "queued_at" in body


def test_status_walk_passes_through_created_and_dispatched(api: Api) -> None:
    rid = api.submit(prompt="zoom [sim:walk statuses=created,queued,dispatched,processing]")
    statuses = [api.get(rid).json()["status"] for _ in range(4)]
    assert statuses == ["created", "queued", "dispatched", "processing"]
    assert api.wait_terminal(rid)["status"] == "success"


def test_default_thumbnail_is_the_video_as_documented(api: Api) -> None:
    outcome = api.wait_terminal(api.submit())["outcome"]
    assert outcome["thumbnail_image_url"] == outcome["video_url"]


def test_a_distinct_thumbnail_is_a_jpeg(api: Api) -> None:
    outcome = api.wait_terminal(api.submit(prompt="zoom [sim:poster]"))["outcome"]
    assert outcome["thumbnail_image_url"].split("?")[0].endswith(".jpg")
    thumbnail = api.download(outcome["thumbnail_image_url"])
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert thumbnail.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("style", "check"),
    [
        ("outcome=media_urls", lambda o: o["media_urls"][0]["id"] == "0" and "video_url" not in o),
        ("outcome=list", lambda o: isinstance(o, list) and o[0]["url"]),
        ("thumbnail=distinct", lambda o: o["thumbnail_image_url"] != o["video_url"]),
        ("thumbnail=none", lambda o: set(o) == {"video_url"}),
    ],
)
def test_success_outcome_shapes(api: Api, style: str, check: object) -> None:
    outcome = api.wait_terminal(api.submit(prompt=f"zoom [sim:answer_style {style}]"))["outcome"]
    assert callable(check)
    assert check(outcome), outcome


def test_media_urls_point_at_the_video(api: Api) -> None:
    outcome = api.wait_terminal(api.submit(prompt="zoom [sim:media_urls]"))["outcome"]
    video = api.download(outcome["media_urls"][0]["url"])
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("style", "where"),
    [
        ("failure=top", lambda b: b["error"]),
        ("failure=message", lambda b: b["message"]),
        ("failure=outcome", lambda b: b["outcome"]["error"]),
        ("failure=outcome_object", lambda b: b["outcome"]["error"]["message"]),
    ],
)
def test_failure_reason_shapes(api: Api, style: str, where: object) -> None:
    body = api.wait_terminal(api.submit(prompt=f"zoom [sim:fail message=boom] [sim:answer_style {style}]"))
    assert body["status"] == "failed"
    assert callable(where)
    assert where(body) == "boom"


def test_junk_video_is_served_as_mp4(api: Api) -> None:
    url = api.wait_terminal(api.submit(prompt="zoom [sim:junk bytes=5000]"))["outcome"]["video_url"]
    junk = api.download(url)
    assert junk.headers["Content-Type"] == "video/mp4"
    assert len(junk.content) == 5000
    assert junk.content.startswith(b"<!DOCTYPE html>")


def test_500_after_creating_the_job(api: Api, sim: GmiSimulator) -> None:
    response = api.post(prompt="zoom [sim:500_after_accept]")
    assert response.status_code == 500
    assert sim.post_count == 1


def test_request_list_by_model(api: Api, sim: GmiSimulator) -> None:
    first, second = api.submit(), api.submit(prompt="another")
    listed = requests.get(
        sim.requests_url, params={"model_id": "pixverse-v5.5-i2v"}, headers=api.auth, verify=sim.verify, timeout=5
    ).json()
    assert listed["total"] == 2
    assert {item["request_id"] for item in listed["requests"]} == {first, second}
    assert listed["requests"][0]["payload"]["image_url"] == api.image_url
    other = requests.get(
        sim.requests_url, params={"model_id": "wan2.6-i2v"}, headers=api.auth, verify=sim.verify, timeout=5
    ).json()
    assert other == {"requests": [], "total": 0}


def test_request_list_is_paged_newest_first_with_the_whole_total(
    api: Api, sim: GmiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GMI documents `total` ("Total number of requests available", the SDK) and no paging parameter: the
    simulator pages with ours (`page` from 1, `page_size` up to its list_page_size)."""
    monkeypatch.setattr(sim.config, "list_page_size", 2)
    ids = [api.submit(prompt=f"number {n}") for n in range(5)]

    def page(number: int, size: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"model_id": "pixverse-v5.5-i2v", "page": number}
        if size is not None:
            params["page_size"] = size
        answer = requests.get(sim.requests_url, params=params, headers=api.auth, verify=sim.verify, timeout=5)
        return dict(answer.json())

    pages = [page(n) for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    listed = [item["request_id"] for p in pages for item in p["requests"]]
    assert [len(p["requests"]) for p in pages] == [2, 2, 1, 0]
    assert sorted(listed) == sorted(ids)  # every request exactly once, newest first (same-second ties aside)
    assert len(page(1, size=100)["requests"]) == 2  # the simulator's largest page wins
    assert len(page(1, size=1)["requests"]) == 1
    bad = requests.get(
        sim.requests_url, params={"model_id": "m", "page": "0"}, headers=api.auth, verify=sim.verify, timeout=5
    )
    assert bad.status_code == 400


def test_models_and_model_detail(api: Api, sim: GmiSimulator) -> None:
    listed = requests.get(sim.base_url + MODELS_PREFIX, headers=api.auth, verify=sim.verify, timeout=5).json()
    assert "pixverse-v5.5-i2v" in listed["model_ids"]
    detail = requests.get(
        f"{sim.base_url}{MODELS_PREFIX}/pixverse-v5.5-i2v", headers=api.auth, verify=sim.verify, timeout=5
    ).json()
    names = {param["name"] for param in detail["parameters"]}
    assert {"image_url", "prompt", "duration"} <= names
    unknown = requests.get(f"{sim.base_url}{MODELS_PREFIX}/nope", headers=api.auth, verify=sim.verify, timeout=5)
    assert unknown.status_code == 404
    anonymous = requests.get(sim.base_url + MODELS_PREFIX, verify=sim.verify, timeout=5)
    assert anonymous.status_code == 401


def test_price_info_is_served_for_the_models_whose_price_it_knows(api: Api, sim: GmiSimulator) -> None:
    def detail(model: str) -> dict[str, Any]:
        url = f"{sim.base_url}{MODELS_PREFIX}/{model}"
        answer: dict[str, Any] = requests.get(url, headers=api.auth, verify=sim.verify, timeout=5).json()
        return answer

    # Every catalog model a POST may name has details; only a known price is served.
    assert detail("kling-3.0-turbo-i2v")["price_info"] == {
        "price": 112000,
        "pricing_type": "per_second",
        "unit": "usd_micros",
    }
    assert "price_info" not in detail("pixverse-v5.5-i2v")
    sim.config.prices["wan2.6-i2v"] = {"price": 45, "pricing_type": "per_video", "unit": "usd_cents"}
    assert detail("wan2.6-i2v")["price_info"]["price"] == 45


def test_cli_prices_option() -> None:
    from i2v_local.simulator.cli import build_simulator

    prices = build_simulator(["--price", "wan2.6-i2v=45:per_video:usd_cents", "--price", "kling-3.0-turbo-i2v="])
    assert prices.config.prices == {"wan2.6-i2v": {"price": 45, "pricing_type": "per_video", "unit": "usd_cents"}}
    with pytest.raises(SystemExit, match="MODEL=PRICE:PRICING_TYPE:UNIT"):
        build_simulator(["--price", "wan2.6-i2v=cheap"])


def test_cli_lists_the_answer_faults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-faults"]) == 0
    out = capsys.readouterr().out
    for name in ("video_junk", "post_500_after_accept", "answer_style", "status_walk", "thumbnail_404"):
        assert name in out
