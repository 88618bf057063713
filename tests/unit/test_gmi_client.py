"""GmiClient: every way a call can end, classified by what it means for money.

- never sent (the connection was never made): retryable, nothing can have been created;
- refused by GMI (4xx): permanent; 429/503: retryable with Retry-After;
- a POST answered 5xx, timed out, cut off or answered with an unreadable body after it was sent: ambiguous
  (GMI may have created, and will bill, a job we never saw), never retried by the client itself;
- the same failures on a status GET: retryable (a read costs nothing).

HTTP answers come from `responses` (requests' own mocking library); "never sent" is a real refused connection
to a closed loopback port, so the urllib3 error chain the client inspects is the real one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from i2v.adapters.gmi import REQUESTS_PATH, GmiClient
from i2v.domain.gmi_answers import GmiAmbiguousError, GmiError, GmiPermanentError, GmiRequest, GmiRetryableError
from i2v.domain.redaction import register_secret

BASE = "https://gmi.example"
POST_URL = BASE + REQUESTS_PATH
GET_URL = POST_URL + "/req-1"
KEY = "sk-unit-CANARY-0b6f2a"
ACCEPTED = {"request_id": "req-1", "status": "queued"}


def client(base_url: str = BASE) -> GmiClient:
    return GmiClient(base_url, lambda: KEY, model="pixverse-v5.5-i2v", timeout_seconds=1)


@pytest.fixture
def gmi() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def submit_error(gmi: responses.RequestsMock, **answer: object) -> GmiError:
    gmi.add(responses.POST, POST_URL, **answer)  # type: ignore[arg-type]
    with pytest.raises(GmiError) as raised:
        client().submit({"prompt": "a cat"})
    assert len(gmi.calls) == 1  # the client never sends a POST twice by itself
    return raised.value


def get_error(gmi: responses.RequestsMock, **answer: object) -> GmiError:
    gmi.add(responses.GET, GET_URL, **answer)  # type: ignore[arg-type]
    with pytest.raises(GmiError) as raised:
        client().get("req-1")
    return raised.value


# ---- accepted --------------------------------------------------------------------------------------------------
def test_accepted_submission_returns_the_request_and_sends_the_key_only_in_the_header(
    gmi: responses.RequestsMock,
) -> None:
    gmi.add(responses.POST, POST_URL, json=ACCEPTED)
    answer = client().submit({"prompt": "a cat"})
    assert isinstance(answer, GmiRequest)
    assert (answer.request_id, answer.status) == ("req-1", "queued")
    (call,) = gmi.calls
    assert call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in str(call.request.body)


# ---- never sent ------------------------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed on exit: a connect there is refused


def test_connection_refused_is_never_sent_so_retryable() -> None:
    with pytest.raises(GmiError) as raised:
        client(f"http://127.0.0.1:{_closed_port()}").submit({"prompt": "a cat"})
    assert type(raised.value) is GmiRetryableError
    assert "could not connect" in str(raised.value)


def test_connect_timeout_is_never_sent_so_retryable(gmi: responses.RequestsMock) -> None:
    error = submit_error(gmi, body=requests.ConnectTimeout("connect timed out"))
    assert type(error) is GmiRetryableError


# ---- refused by GMI --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_refusal_4xx_is_permanent_with_gmi_message(gmi: responses.RequestsMock, status: int) -> None:
    error = submit_error(gmi, status=status, json={"message": "bad image_url"})
    assert type(error) is GmiPermanentError
    assert error.status_code == status
    assert str(error) == f"GMI answered {status}: bad image_url"


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_refusals_retryable_with_retry_after(gmi: responses.RequestsMock, status: int) -> None:
    error = submit_error(gmi, status=status, json={"error": "busy"}, headers={"Retry-After": "2"})
    assert type(error) is GmiRetryableError
    assert error.status_code == status
    assert error.retry_after == 2.0


# ---- sent, fate unknown ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 504, 520])
def test_5xx_after_the_post_was_sent_is_ambiguous(gmi: responses.RequestsMock, status: int) -> None:
    error = submit_error(gmi, status=status, body="upstream broke")
    assert type(error) is GmiAmbiguousError
    assert error.status_code == status


def test_read_timeout_after_the_post_is_ambiguous(gmi: responses.RequestsMock) -> None:
    error = submit_error(gmi, body=requests.ReadTimeout("read timed out"))
    assert type(error) is GmiAmbiguousError
    assert "did not answer the submission in time" in str(error)


def test_connection_lost_after_the_post_was_sent_is_ambiguous(gmi: responses.RequestsMock) -> None:
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))
    error = submit_error(gmi, body=dropped)
    assert type(error) is GmiAmbiguousError
    assert "connection lost after sending" in str(error)


@pytest.mark.parametrize(
    "body",
    ['{"request_id": "req-1", "status": "que', "<html>ok</html>", '{"status": "queued"}', "[]"],
    ids=["truncated-json", "html", "no-request-id", "not-an-object"],
)
def test_unreadable_body_of_an_accepted_post_is_ambiguous(gmi: responses.RequestsMock, body: str) -> None:
    error = submit_error(gmi, status=200, body=body, content_type="application/json")
    assert type(error) is GmiAmbiguousError
    assert "could not read" in str(error)


# ---- the request list, a page at a time (issue 24, defect 5) --------------------------------------------------
def test_the_request_list_asks_for_a_page_and_reads_the_total(gmi: responses.RequestsMock) -> None:
    gmi.add(responses.GET, POST_URL, json={"requests": [ACCEPTED, {"no": "id"}], "total": 7})
    page = client().list_requests("pixverse-v5.5-i2v", 3)
    assert ([r.request_id for r in page.requests], page.total) == (["req-1"], 7)  # an unreadable item skipped
    (call,) = gmi.calls
    query = call.request.url.split("?", 1)[1]
    assert set(query.split("&")) == {"model_id=pixverse-v5.5-i2v", "page=3", "page_size=100"}


@pytest.mark.parametrize("body", [{"requests": []}, {"requests": [], "total": "7"}, []], ids=["none", "text", "list"])
def test_a_list_without_a_readable_total_says_so(gmi: responses.RequestsMock, body: object) -> None:
    gmi.add(responses.GET, POST_URL, json=body)
    assert client().list_requests("pixverse-v5.5-i2v").total is None


# ---- a redirect is never followed (issue 24, defect 6) ----------------------------------------------------------
ELSEWHERE = "https://elsewhere.example/collect"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", [POST_URL, ELSEWHERE], ids=["same-url", "other-host"])
def test_a_3xx_to_the_post_is_not_followed_and_is_ambiguous(
    gmi: responses.RequestsMock, status: int, location: str
) -> None:
    """Following would send the body (307/308) and, on the same host, the key again: GMI could bill twice."""
    gmi.add(responses.POST, ELSEWHERE, json=ACCEPTED)
    error = submit_error(gmi, status=status, headers={"Location": location}, json={"message": "moved"})
    assert type(error) is GmiAmbiguousError
    assert error.status_code == status
    assert [call.request.url for call in gmi.calls] == [POST_URL]  # nothing sent to the Location


@pytest.mark.parametrize("location", [GET_URL, ELSEWHERE], ids=["same-url", "other-host"])
def test_a_3xx_to_a_status_check_or_the_list_is_not_followed_and_is_retryable(
    gmi: responses.RequestsMock, location: str
) -> None:
    """A read is never redirected either: the key goes only to the configured base URL."""
    gmi.add(responses.GET, ELSEWHERE, json=ACCEPTED)
    gmi.add(responses.GET, POST_URL, status=302, headers={"Location": location})
    assert type(get_error(gmi, status=302, headers={"Location": location})) is GmiRetryableError
    with pytest.raises(GmiRetryableError):
        client().list_requests("pixverse-v5.5-i2v")
    assert [call.request.url.split("?")[0] for call in gmi.calls] == [GET_URL, POST_URL]


# ---- status checks: a read costs nothing, so every unclear answer is retryable ---------------------------------
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "body": "oops"},
        {"status": 503, "body": "busy"},
        {"status": 200, "body": "{not json", "content_type": "application/json"},
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))},
    ],
    ids=["500", "503", "unreadable", "timeout", "dropped"],
)
def test_status_check_failures_are_retryable(gmi: responses.RequestsMock, answer: dict[str, object]) -> None:
    assert type(get_error(gmi, **answer)) is GmiRetryableError


def test_status_check_refused_404_is_permanent(gmi: responses.RequestsMock) -> None:
    assert type(get_error(gmi, status=404, json={"message": "no such request"})) is GmiPermanentError


# ---- no secret in what the client raises -----------------------------------------------------------------------
def test_errors_never_carry_the_key_gmi_echoed(gmi: responses.RequestsMock) -> None:
    register_secret(KEY)  # as the secrets adapter does when it reads the key
    error = submit_error(gmi, status=403, json={"message": f"key {KEY} may not use this model"})
    assert KEY not in str(error)
    assert KEY not in repr(error.args)


def test_missing_key_is_permanent_before_anything_is_sent(gmi: responses.RequestsMock) -> None:
    def no_key() -> str:
        raise RuntimeError("the GMI API key secret is empty")

    with pytest.raises(GmiPermanentError) as raised:
        GmiClient(BASE, no_key, model="m").check_credentials()
    assert raised.value.status_code == 401
    assert len(gmi.calls) == 0
