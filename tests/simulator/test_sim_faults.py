"""Every fault mode, and the ways of selecting faults (per run, runtime, header, prompt marker, random)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from i2v_local.simulator import FAULTS, FaultPlan, FaultSpecError, GmiSimulator, Kind, Timing, parse_spec
from i2v_local.simulator.faults import prompt_markers

from .conftest import Api, ImageServer

# --- selection ---------------------------------------------------------------------------------


def test_spec_parsing_aliases_and_errors() -> None:
    spec = parse_spec("post_429 retry_after=3 count=2")
    assert (spec.name, dict(spec.params), spec.count, spec.kind) == ("post_429", {"retry_after": "3"}, 2, Kind.POST)
    assert parse_spec("video_404_once").params == {"scope": "once"}
    assert parse_spec("fail").name == "job_failed"
    assert parse_spec("job_failed", message="nope").get("message", "") == "nope"
    with pytest.raises(FaultSpecError):
        parse_spec("no_such_fault")
    with pytest.raises(FaultSpecError):
        parse_spec("post_429 retry_after")
    assert [s.name for s in prompt_markers("a cat [sim:stuck] [sim:get_500 count=2] [sim:bogus]")] == [
        "job_stuck",
        "get_500",
    ]


def test_every_fault_has_a_kind() -> None:
    assert all(isinstance(kind, Kind) for kind, _ in FAULTS.values())


def test_inject_counts_then_stops(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_429", count=2, retry_after=7)
    first, second, third = api.post(), api.post(), api.post()
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "7"
    assert sim.post_count == 1
    assert [e.fault for e in sim.requests_log] == ["post_429", "post_429", None]


def test_per_run_fault_without_count_fires_every_time(images: ImageServer) -> None:
    with GmiSimulator(timing=Timing.zero(), tls=False, faults=["get_503 retry_after=2"]) as sim:
        api = Api(sim, images.url())
        rid = api.submit()
        for _ in range(3):
            response = api.get(rid)
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "2"


def test_header_fault_applies_to_that_request_only(api: Api) -> None:
    assert api.post(headers={"X-Sim-Fault": "post_503"}).status_code == 503
    assert api.post().status_code == 200
    bad = api.post(headers={"X-Sim-Fault": "explode"})
    assert bad.status_code == 400
    assert "X-Sim-Fault" in bad.json()["error"]


def test_prompt_marker_post_fault_fires_once_per_submission(api: Api, sim: GmiSimulator) -> None:
    assert api.post(prompt="zoom [sim:429]").status_code == 429
    assert api.post(prompt="zoom [sim:429]").status_code == 200  # the client's retry gets through
    assert sim.post_count == 1


def test_prompt_marker_count(api: Api) -> None:
    codes = [api.post(prompt="zoom [sim:post_500 count=2]").status_code for _ in range(3)]
    assert codes == [500, 500, 200]


def test_prompt_marker_get_fault_fires_on_the_jobs_first_gets(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit(prompt="zoom [sim:get_500]")
    sim.wait_for_job(rid)
    assert api.get(rid).status_code == 500
    assert api.get(rid).json()["status"] == "success"


def test_random_faults_are_seeded(images: ImageServer) -> None:
    def run() -> list[int]:
        plan = FaultPlan(probabilities={"get_500": 0.5}, seed=11)
        with GmiSimulator(timing=Timing.zero(), tls=False, faults=plan) as sim:
            api = Api(sim, images.url())
            rid = api.submit()
            return [api.get(rid).status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


def test_set_job_faults_on_an_existing_job(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    url = api.wait_terminal(rid)["outcome"]["video_url"]
    sim.set_job_faults(rid, "video_404")
    assert api.download(url).status_code == 404


def test_reset_forgets_everything(api: Api, sim: GmiSimulator) -> None:
    api.submit()
    sim.inject("post_500", count=None)
    sim.reset()
    assert (sim.post_count, sim.requests_log, sim.jobs) == (0, [], {})
    assert api.post().status_code == 200


# --- POST faults -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [500, 503])
def test_post_5xx_before_acceptance_creates_no_job(api: Api, sim: GmiSimulator, code: int) -> None:
    sim.inject(f"post_{code}")
    assert api.post().status_code == code
    assert sim.post_count == 0
    assert sim.jobs == {}


@pytest.mark.parametrize("code", [500, 503])
def test_post_5xx_after_acceptance_creates_the_job(api: Api, sim: GmiSimulator, code: int) -> None:
    sim.inject(f"post_{code}_after_accept")
    assert api.post().status_code == code
    assert sim.post_count == 1
    (job,) = sim.jobs.values()
    assert sim.wait_for_job(job.request_id)
    assert sim.status_of(job.request_id) == "success"  # the job runs even though the client saw 5xx


def test_post_timeout_after_accept_sleeps_past_the_client_timeout(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_timeout_after_accept", seconds=3)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(timeout=0.3)
    assert time.monotonic() - started < 2
    assert sim.post_count == 1


def test_post_timeout_after_accept_drop_mode(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_drop_after_accept")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post()
    assert sim.post_count == 1
    assert sim.requests_log[-1].status == 0


def test_post_drop_before_acceptance(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post()
    assert sim.post_count == 0


def test_post_malformed_json_after_acceptance(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_malformed_json")
    response = api.post()
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert sim.post_count == 1


def test_post_slow(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_slow", seconds=0.3)
    started = time.monotonic()
    assert api.post().status_code == 200
    assert time.monotonic() - started >= 0.3


def test_post_success_returns_the_outcome_immediately(api: Api, sim: GmiSimulator) -> None:
    sim.inject("post_success")
    body = api.post().json()
    assert body["status"] == "success"
    assert api.download(body["outcome"]["video_url"]).status_code == 200


# --- GET faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [429, 500, 503])
def test_get_error_codes(api: Api, sim: GmiSimulator, code: int) -> None:
    rid = api.submit()
    sim.inject(f"get_{code}", retry_after=4)
    response = api.get(rid)
    assert response.status_code == code
    assert response.headers.get("Retry-After") == "4"
    assert api.get(rid).status_code == 200


def test_get_429_has_a_default_retry_after(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    sim.inject("get_429")
    assert api.get(rid).headers["Retry-After"] == "1"


def test_get_malformed_json(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    sim.inject("get_malformed_json")
    response = api.get(rid)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_get_slow(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    sim.inject("get_slow", seconds=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(rid, timeout=0.3)


def test_get_404_and_drop(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit()
    sim.inject("get_404")
    assert api.get(rid).status_code == 404
    sim.inject("get_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get(rid)
    assert api.get(rid).status_code == 200


# --- job faults --------------------------------------------------------------------------------


def test_job_failed_with_message(api: Api) -> None:
    body = api.wait_terminal(api.submit(prompt="zoom [sim:job_failed message=content_policy]"))
    assert body["status"] == "failed"
    assert body["error"] == "content_policy"


def test_job_failed_default_message(api: Api, sim: GmiSimulator) -> None:
    sim.inject("job_failed")
    body = api.wait_terminal(api.submit())
    assert (body["status"], body["error"]) == ("failed", "video generation failed (simulated)")


def test_job_cancelled(api: Api) -> None:
    assert api.wait_terminal(api.submit(prompt="[sim:cancelled] zoom"))["status"] == "cancelled"


def test_job_stuck_stays_processing(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit(prompt="zoom [sim:stuck]")
    time.sleep(0.2)
    assert {api.get(rid).json()["status"] for _ in range(3)} == {"processing"}


def test_unknown_status_is_reported_for_a_while(api: Api, sim: GmiSimulator) -> None:
    rid = api.submit(prompt="zoom [sim:unknown_status gets=2 status=dispatched]")
    sim.wait_for_job(rid)
    statuses = [api.get(rid).json()["status"] for _ in range(3)]
    assert statuses == ["dispatched", "dispatched", "success"]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("missing", "absent"), ("null", None), ("empty", {}), ("blank_url", {"video_url": ""})],
)
def test_success_without_outcome(api: Api, shape: str, expected: Any) -> None:
    body = api.wait_terminal(api.submit(prompt=f"zoom [sim:success_without_outcome shape={shape}]"))
    assert body["status"] == "success"
    assert body.get("outcome", "absent") == expected


def test_video_url_http_and_foreign_host(api: Api, sim: GmiSimulator) -> None:
    http_url = api.wait_terminal(api.submit(prompt="a [sim:video_url_http]"))["outcome"]["video_url"]
    assert http_url.startswith(f"http://127.0.0.1:{sim.port}/videos/")
    foreign = api.wait_terminal(api.submit(prompt="b [sim:video_url_foreign_host host=cdn.evil.test]"))
    assert foreign["outcome"]["video_url"].startswith("https://cdn.evil.test/videos/")


@pytest.mark.parametrize(
    ("marker", "location"),
    [
        ("video_redirect_private", "http://10.0.0.1/videos/"),
        ("video_redirect_foreign", "https://storage.attacker.invalid/videos/"),
    ],
)
def test_video_redirects_elsewhere(api: Api, marker: str, location: str) -> None:
    rid = api.submit(prompt=f"zoom [sim:{marker}]")
    url = api.wait_terminal(rid)["outcome"]["video_url"]
    response = api.download(url, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(location)


def test_video_redirect_within_the_simulator_works(api: Api) -> None:
    url = api.wait_terminal(api.submit(prompt="zoom [sim:video_redirect_ok]"))["outcome"]["video_url"]
    response = api.download(url)
    assert response.status_code == 200
    assert len(response.history) == 1
    assert response.content[4:8] == b"ftyp"


@pytest.mark.parametrize("code", [403, 404])
def test_video_error_always(api: Api, code: int) -> None:
    rid = api.submit(prompt=f"zoom [sim:video_{code}]")
    first = api.wait_terminal(rid)["outcome"]["video_url"]
    fresh = api.get(rid).json()["outcome"]["video_url"]
    assert api.download(first).status_code == code
    assert api.download(fresh).status_code == code


@pytest.mark.parametrize("code", [403, 404])
def test_video_error_once_then_a_fresh_url_works(api: Api, code: int) -> None:
    rid = api.submit(prompt=f"zoom [sim:video_{code}_once]")
    expired = api.wait_terminal(rid)["outcome"]["video_url"]
    assert api.download(expired).status_code == code
    assert api.download(expired).status_code == code  # an expired URL stays expired
    fresh = api.get(rid).json()["outcome"]["video_url"]
    response = api.download(fresh)
    assert response.status_code == 200
    assert response.content[4:8] == b"ftyp"


def _read_raw(response: requests.Response) -> tuple[int, Exception | None]:
    received, error = 0, None
    try:
        while chunk := response.raw.read(1024, decode_content=False):
            received += len(chunk)
    except Exception as exc:  # urllib3 raises ProtocolError / IncompleteRead / SSLError here
        error = exc
    return received, error


@pytest.mark.parametrize("marker", ["video_truncated", "video_reset"])
def test_video_body_ends_early(api: Api, marker: str) -> None:
    url = api.wait_terminal(api.submit(prompt=f"zoom [sim:{marker}]"))["outcome"]["video_url"]
    with pytest.raises(requests.exceptions.RequestException):
        api.download(url)
    response = api.download(url, stream=True)
    length = int(response.headers["Content-Length"])
    received, error = _read_raw(response)
    assert received < length
    assert error is not None


def test_video_slow(api: Api) -> None:
    url = api.wait_terminal(api.submit(prompt="zoom [sim:video_slow bytes_per_second=40000]"))["outcome"]["video_url"]
    started = time.monotonic()
    response = api.download(url)
    assert response.status_code == 200
    assert time.monotonic() - started >= len(response.content) / 40000 * 0.5


@pytest.mark.parametrize("marker", ["image_fetch_fails status=404", "image_403"])
def test_image_fetch_fails_fault(api: Api, marker: str) -> None:
    body = api.wait_terminal(api.submit(prompt=f"zoom [sim:{marker}]"))
    assert body["status"] == "failed"
    assert body["error"].startswith("image_url could not be fetched (HTTP 40")


def test_request_log_never_contains_signed_query(api: Api, sim: GmiSimulator) -> None:
    url = api.wait_terminal(api.submit())["outcome"]["video_url"]
    api.download(url)
    assert all("Signature" not in entry.path for entry in sim.requests_log)


def test_faults_from_the_environment(images: ImageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("I2V_SIM_FAULTS", "post_429 count=1; get_500 count=1")
    monkeypatch.setenv("I2V_SIM_FAULT_PROBS", "video_url_http=1.0")
    with GmiSimulator(timing=Timing.zero(), tls=False) as sim:
        api = Api(sim, images.url())
        assert api.post().status_code == 429
        rid = api.submit()
        sim.wait_for_job(rid)
        assert api.get(rid).status_code == 500
        assert api.get(rid).json()["outcome"]["video_url"].startswith("http://")
    plan = FaultPlan.from_env({"I2V_SIM_FAULT_PROBS": "get_500=0.25", "I2V_SIM_FAULT_SEED": "3"})
    assert plan.take(Kind.GET) == FaultPlan.from_env({"I2V_SIM_FAULT_PROBS": "get_500=0.25"}, seed=3).take(Kind.GET)


def test_header_job_fault(api: Api) -> None:
    rid = api.post(headers={"X-Sim-Fault": "job_failed message=header-fail"}).json()["request_id"]
    assert api.wait_terminal(rid)["error"] == "header-fail"
