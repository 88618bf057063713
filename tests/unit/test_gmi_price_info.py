"""The GMI client's price_info read (GET /models/{id}): cached per client, never once per job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from i2v.adapters.gmi import MODELS_PATH, PRICE_CACHE_SECONDS, PRICE_RETRY_SECONDS, GmiClient
from i2v.domain.gmi_answers import GmiPermanentError, GmiRetryableError

BASE = "https://gmi.example"
KEY = "sk-unit-CANARY-price"
MODEL_URL = f"{BASE}{MODELS_PATH}/kling-3.0-turbo-i2v"
PRICE = {"price": 112000, "pricing_type": "per_second", "unit": "usd_micros"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gmi() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def client(clock: Clock) -> GmiClient:
    made = GmiClient(BASE, lambda: KEY, model="pixverse-v5.5-i2v", timeout_seconds=10)
    made._clock = clock
    return made


def test_price_info_is_read_once_per_model_and_hour(gmi: responses.RequestsMock) -> None:
    gmi.add(responses.GET, MODEL_URL, json={"model": "kling-3.0-turbo-i2v", "price_info": PRICE})
    clock = Clock()
    gmi_client = client(clock)
    assert gmi_client.price_info("kling-3.0-turbo-i2v") == PRICE
    assert gmi_client.price_info("kling-3.0-turbo-i2v") == PRICE
    assert len(gmi.calls) == 1
    assert gmi.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"
    clock.now += PRICE_CACHE_SECONDS + 1
    gmi_client.price_info("kling-3.0-turbo-i2v")
    assert len(gmi.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "json": {"error": "model not found"}},
        {"status": 200, "json": {"model": "kling-3.0-turbo-i2v"}},
        {"status": 200, "json": {"model": "kling-3.0-turbo-i2v", "price_info": None}},
        {"status": 200, "json": ["not", "an", "object"]},
    ],
)
def test_no_price_info_is_none(gmi: responses.RequestsMock, answer: dict[str, object]) -> None:
    gmi.add(responses.GET, MODEL_URL, **answer)  # type: ignore[arg-type]
    assert client(Clock()).price_info("kling-3.0-turbo-i2v") is None


def test_a_failed_read_is_not_repeated_for_a_while(gmi: responses.RequestsMock) -> None:
    gmi.add(responses.GET, MODEL_URL, status=503, json={"error": "busy"})
    clock = Clock()
    gmi_client = client(clock)
    for _ in range(3):
        with pytest.raises(GmiRetryableError, match="503"):
            gmi_client.price_info("kling-3.0-turbo-i2v")
    assert len(gmi.calls) == 1
    clock.now += PRICE_RETRY_SECONDS + 1
    with pytest.raises(GmiRetryableError):
        gmi_client.price_info("kling-3.0-turbo-i2v")
    assert len(gmi.calls) == 2


def test_the_read_has_a_short_timeout(gmi: responses.RequestsMock) -> None:
    gmi.add(responses.GET, MODEL_URL, json={"price_info": PRICE})
    client(Clock()).price_info("kling-3.0-turbo-i2v")
    assert gmi.calls[0].request.req_kwargs["timeout"] == (3.05, 3.0)  # type: ignore[attr-defined]


def test_a_refusal_is_not_asked_again_for_an_hour(gmi: responses.RequestsMock) -> None:
    gmi.add(responses.GET, MODEL_URL, status=403, json={"error": "forbidden"})
    clock = Clock()
    gmi_client = client(clock)
    with pytest.raises(GmiPermanentError, match="403"):
        gmi_client.price_info("kling-3.0-turbo-i2v")
    clock.now += PRICE_RETRY_SECONDS + 1
    with pytest.raises(GmiPermanentError):
        gmi_client.price_info("kling-3.0-turbo-i2v")
    assert len(gmi.calls) == 1
    clock.now += PRICE_CACHE_SECONDS
    with pytest.raises(GmiPermanentError):
        gmi_client.price_info("kling-3.0-turbo-i2v")
    assert len(gmi.calls) == 2
