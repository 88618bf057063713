"""The one GMI request-queue client. It never retries a POST by itself: whether that is safe is policy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from i2v.domain.gmi_answers import (
    CONNECT_TIMEOUT,
    GmiAmbiguousError,
    GmiError,
    GmiPermanentError,
    GmiRequest,
    GmiRetryableError,
    RequestPage,
)
from i2v.domain.redaction import truncate

REQUESTS_PATH = "/api/v1/ie/requestqueue/apikey/requests"
MODELS_PATH = "/api/v1/ie/requestqueue/apikey/models"
# price_info is read at most once per model per process this often (a failed read: PRICE_RETRY_SECONDS).
PRICE_CACHE_SECONDS = 3600.0
PRICE_RETRY_SECONDS = 300.0
PRICE_READ_TIMEOUT = 3.0
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422})
# 429 and 503 mean the request was turned away before any work was queued: safe to send again.
REFUSED_STATUSES = frozenset({429, 503})
# Requests asked for per page of the request list (GMI documents no default or maximum).
LIST_PAGE_SIZE = 100


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form RFC 9110 allows (delay-seconds or an HTTP-date): urllib3's parser."""
    if not value:
        return None
    try:
        return Retry(total=0).parse_retry_after(value)
    except InvalidHeader:
        return None  # unreadable: callers fall back to their own backoff


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection was never made, so the request body never reached GMI."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return truncate(response.text or response.reason or "")
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "msg"):
            if body.get(key):
                value = body[key]
                return truncate(value if isinstance(value, str) else json.dumps(value))
    return truncate(json.dumps(body))


class GmiClient:
    def __init__(
        self,
        base_url: str,
        api_key: Callable[[], str],
        model: str,
        timeout_seconds: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.model = model
        self._timeout = (CONNECT_TIMEOUT, timeout_seconds)
        self._session = session or requests.Session()
        # No transport-level retries and no redirects followed (each call says so): a silently repeated POST
        # could pay twice, and a followed redirect re-sends the body and, on the same host, the API key.
        self._session.mount("https://", HTTPAdapter(max_retries=0))
        self._session.mount("http://", HTTPAdapter(max_retries=0))
        # model id -> (monotonic expiry, price_info or None, or the error the read raised)
        self._prices: dict[str, tuple[float, dict[str, Any] | GmiError | None]] = {}
        self._clock: Callable[[], float] = time.monotonic

    def check_credentials(self) -> None:
        """Read the API key now, so a missing key is found before anything is sent (or paid for)."""
        try:
            self._api_key()
        except RuntimeError as error:  # MissingApiKeyError: an empty secret, a deployment step left to do
            raise GmiPermanentError(str(error), status_code=401) from None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key()}", "Content-Type": "application/json"}

    def submit(self, payload: dict[str, Any], model: str | None = None) -> GmiRequest:
        """POST one job to `model` (the job's catalog model; the deployment's by default)."""
        body = {"model": model or self.model, "payload": payload}
        try:
            response = self._session.post(
                self._base_url + REQUESTS_PATH,
                json=body,
                headers=self._headers(),
                timeout=self._timeout,
                allow_redirects=False,  # a 3xx is ambiguous (_check_status); following could pay twice
            )
        except requests.ConnectionError as error:
            if _never_sent(error):
                raise GmiRetryableError(f"could not connect to GMI: {type(error).__name__}") from None
            raise GmiAmbiguousError(f"connection lost after sending the request: {type(error).__name__}") from None
        except requests.Timeout:
            raise GmiAmbiguousError("GMI did not answer the submission in time") from None
        return self._parse(response, posting=True)

    def get(self, request_id: str) -> GmiRequest:
        try:
            response = self._session.get(
                f"{self._base_url}{REQUESTS_PATH}/{request_id}",
                headers=self._headers(),
                timeout=self._timeout,
                allow_redirects=False,  # the key goes to the configured base URL only; a 3xx is retryable
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise GmiRetryableError(f"GMI status check failed: {type(error).__name__}") from None
        return self._parse(response, posting=False)

    def list_requests(self, model_id: str, page: int = 1) -> RequestPage:
        """One page of the organisation's requests of one model (`GET /requests?model_id=`); unreadable items are
        skipped. GMI documents `total` but no paging parameter: we send `page` (from 1) and `page_size`, and the
        caller reads pages until it has seen `total` requests (i2v.services.reconcile)."""
        try:
            response = self._session.get(
                self._base_url + REQUESTS_PATH,
                params={"model_id": model_id, "page": str(page), "page_size": str(LIST_PAGE_SIZE)},
                headers=self._headers(),
                timeout=self._timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise GmiRetryableError(f"GMI request list failed: {type(error).__name__}") from None
        self._check_status(response, posting=False)
        try:
            body = response.json()
        except ValueError:
            raise GmiRetryableError("GMI answered the request list with a body we could not read") from None
        items = body.get("requests") if isinstance(body, dict) else body
        total = body.get("total") if isinstance(body, dict) else None
        found: list[GmiRequest] = []
        for item in items if isinstance(items, list) else []:
            try:
                found.append(GmiRequest.model_validate(item))
            except ValidationError:
                continue
        return RequestPage(found, total if isinstance(total, int) and not isinstance(total, bool) else None)

    def price_info(self, model_id: str) -> dict[str, Any] | None:
        """GMI's `price_info` of a model (GET /models/{id}; None when GMI gives none or lists no such model).

        Cached per client, so per process: at most one GET per model an hour, never one per job. A failed read
        raises GmiRetryableError (again for PRICE_RETRY_SECONDS) or GmiPermanentError (again for an hour)."""
        now = self._clock()
        cached = self._prices.get(model_id)
        if cached is not None and now < cached[0]:
            if isinstance(cached[1], GmiError):
                raise cached[1]
            return cached[1]
        try:
            info = self._read_price_info(model_id)
        except GmiError as error:
            # A refusal (401/403/405...) will not change soon: asked again an hour later, like an answer.
            wait = PRICE_CACHE_SECONDS if isinstance(error, GmiPermanentError) else PRICE_RETRY_SECONDS
            self._prices[model_id] = (now + wait, error)
            raise
        self._prices[model_id] = (now + PRICE_CACHE_SECONDS, info)
        return info

    def _read_price_info(self, model_id: str) -> dict[str, Any] | None:
        try:
            response = self._session.get(
                f"{self._base_url}{MODELS_PATH}/{model_id}",
                headers=self._headers(),
                timeout=(CONNECT_TIMEOUT, min(PRICE_READ_TIMEOUT, self._timeout[1])),
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise GmiRetryableError(f"GMI model details failed: {type(error).__name__}") from None
        if response.status_code == 404:
            return None
        self._check_status(response, posting=False)
        try:
            body = response.json()
        except ValueError:
            raise GmiRetryableError("GMI answered the model details with a body we could not read") from None
        info = body.get("price_info") if isinstance(body, dict) else None
        return info if isinstance(info, dict) else None

    def _check_status(self, response: requests.Response, posting: bool) -> None:
        status = response.status_code
        if status in PERMANENT_STATUSES:
            raise GmiPermanentError(f"GMI answered {status}: {_error_text(response)}", status_code=status)
        if status in REFUSED_STATUSES:
            raise GmiRetryableError(
                f"GMI answered {status}: {_error_text(response)}",
                status_code=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 300:
            unclear = GmiAmbiguousError if posting else GmiRetryableError
            raise unclear(f"GMI answered {status}: {_error_text(response)}", status_code=status)

    def _parse(self, response: requests.Response, posting: bool) -> GmiRequest:
        self._check_status(response, posting)
        status = response.status_code
        unclear = GmiAmbiguousError if posting else GmiRetryableError
        try:
            return GmiRequest.model_validate(response.json())
        except (ValueError, ValidationError):
            raise unclear(f"GMI answered {status} with a body we could not read", status_code=status) from None
