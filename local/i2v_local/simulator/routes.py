"""The GMI request-queue API: which path does what, request-level faults, and the answer bodies."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from i2v.domain import catalog

from .answers import job_body, list_body, submit_body
from .config import SimContext
from .contract import API_PREFIX, ContractError, source_image_url, validate_request
from .downloads import serve_image, serve_thumbnail, serve_video
from .faults import FaultSpec, FaultSpecError, Kind, parse_specs, prompt_markers
from .models import model_detail, model_list
from .plumbing import Exchange

FAULT_HEADER = "X-Sim-Fault"
MODELS_PREFIX = API_PREFIX.rsplit("/", 1)[0] + "/models"


class GmiApi:
    """The routes (an `App` for plumbing.SimServer)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def handle(self, ex: Exchange) -> None:
        method, path = ex.method, ex.path_only
        if path == "/healthz" and method in ("GET", "HEAD"):
            ex.json(200, {"status": "ok"})
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            request_id = path[len(API_PREFIX) + 1 :]
            if not self._authorized(ex):
                return
            if path == API_PREFIX and method == "POST":
                self._post(ex)
            elif path == API_PREFIX and method == "GET":
                self._list(ex)
            elif request_id and "/" not in request_id and method == "GET":
                self._get_status(ex, request_id)
            elif path == API_PREFIX or (request_id and "/" not in request_id):
                allow = "GET, POST" if path == API_PREFIX else "GET"
                ex.error(405, f"method {method} not allowed here", {"Allow": allow})
            else:
                ex.error(404, "not found")
        elif path == MODELS_PREFIX or path.startswith(MODELS_PREFIX + "/"):
            if self._authorized(ex):
                self._models(ex, path[len(MODELS_PREFIX) + 1 :])
        elif path.startswith("/videos/") and path.endswith(".mp4") and method in ("GET", "HEAD"):
            serve_video(self.ctx, ex, path[len("/videos/") : -len(".mp4")])
        elif path.startswith("/videos/") and path.endswith(".jpg") and method in ("GET", "HEAD"):
            serve_thumbnail(self.ctx, ex, path[len("/videos/") : -len(".jpg")])
        elif path.startswith("/images/") and method in ("GET", "HEAD"):
            serve_image(self.ctx, ex, path[len("/images/") :])
        else:
            ex.error(404, "not found")

    # --- checks shared by the API routes ---------------------------------------------------------

    def _authorized(self, ex: Exchange) -> bool:
        scheme, _, token = ex.headers.get("Authorization", "").partition(" ")
        expected = self.ctx.config.api_key.encode()
        if scheme.lower() == "bearer" and token.strip() and hmac.compare_digest(token.strip().encode(), expected):
            return True
        ex.error(401, "missing or invalid API key (expected Authorization: Bearer <key>)")
        return False

    @staticmethod
    def _header_faults(ex: Exchange) -> list[FaultSpec] | None:
        raw = ex.headers.get(FAULT_HEADER)
        if not raw:
            return []
        try:
            return parse_specs(raw)
        except FaultSpecError as exc:
            ex.error(400, f"{FAULT_HEADER}: {exc}")
            return None

    def _retry_after(self, spec: FaultSpec) -> dict[str, str]:
        value = spec.get("retry_after", "1" if spec.name.endswith("429") else "none")
        return {} if value.lower() == "none" else {"Retry-After": value}

    def _early_fault(self, ex: Exchange, by_name: Mapping[str, FaultSpec], prefix: str) -> bool:
        """Faults that answer before any work (post_*/get_* slow, refused, 429, 500, 503, drop); True if answered."""
        slow = by_name.get(f"{prefix}_slow")
        if slow is not None:
            ex.fault = slow.name
            ex.sleep(slow.num("seconds", self.ctx.config.hang_seconds))
        refused = by_name.get(f"{prefix}_refused")
        if refused is not None:
            ex.fault = refused.name
            ex.error(int(refused.num("status", 403)), refused.get("message", "simulated refusal"))
            return True
        for code in (429, 500, 503):
            spec = by_name.get(f"{prefix}_{code}")
            if spec is not None:
                ex.fault = spec.name
                ex.error(code, f"simulated {code}", self._retry_after(spec))
                return True
        if f"{prefix}_drop" in by_name:
            ex.fault = f"{prefix}_drop"
            ex.drop()
        return False

    # --- POST /requests ------------------------------------------------------------------------

    def _post_faults(self, body: Any, header_specs: list[FaultSpec]) -> tuple[dict[str, FaultSpec], list[FaultSpec]]:
        """POST-level faults firing now (header, plan, prompt markers) and all prompt markers."""
        faults = self.ctx.faults
        payload = body.get("payload") if isinstance(body, dict) else None
        prompt = payload.get("prompt") if isinstance(payload, dict) else None
        markers = prompt_markers(prompt) if isinstance(prompt, str) else []
        post_faults = [s for s in header_specs if s.kind == Kind.POST] + faults.take(Kind.POST)
        if markers and isinstance(payload, dict):
            # Same source image + prompt = same submission: retries see the marker fault only `count`
            # times. The query string is ignored because a re-presigned URL changes it.
            fingerprint = f"{str(source_image_url(body)).split('?', 1)[0]}\0{prompt}"
            post_faults += [s for s in markers if s.kind == Kind.POST and faults.take_marker(fingerprint, s)]
        return {s.name: s for s in post_faults}, markers

    def _post(self, ex: Exchange) -> None:
        ctx = self.ctx
        ex.sleep(ctx.sampler.api_latency())
        header_specs = self._header_faults(ex)
        if header_specs is None:
            return
        try:
            body = json.loads(ex.body) if ex.body.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            ex.error(400, "request body is not valid JSON")
            return

        by_name, markers = self._post_faults(body, header_specs)
        if self._early_fault(ex, by_name, "post"):
            return
        redirect = by_name.get("post_3xx")
        if redirect is not None and redirect.get("created", "yes") == "no":
            self._redirect(ex, redirect)
            return

        try:
            model, resolved = validate_request(
                body, models=ctx.config.models, strict_required=ctx.config.strict_required
            )
        except ContractError as exc:
            ex.error(400, str(exc), errors=exc.errors)
            return

        job_faults = [s for s in header_specs if s.kind == Kind.JOB]
        job_faults += [s for s in markers if s.kind == Kind.JOB]
        job_faults += ctx.faults.take(Kind.JOB)
        get_faults = [s for s in markers if s.kind == Kind.GET]
        job = ctx.store.create(model, resolved, ctx.config.org_id, job_faults, get_faults)
        ctx.count_post()

        for name, code in (("post_500_after_accept", 500), ("post_503_after_accept", 503)):
            spec = by_name.get(name)
            if spec is not None:
                ex.fault = name
                ex.error(code, f"simulated {code}", self._retry_after(spec))
                return
        if redirect is not None:
            self._redirect(ex, redirect)
            return
        hang = by_name.get("post_timeout_after_accept")
        if hang is not None:
            ex.fault = hang.name
            if hang.get("mode", "sleep") == "drop":
                ex.drop()
            ex.sleep(hang.num("seconds", ctx.config.hang_seconds))
        if "post_malformed_json" in by_name:
            ex.fault = "post_malformed_json"
            ex.send(200, _malformed(submit_body(job)), "application/json")
            return
        if "post_success" in by_name:
            ex.fault = "post_success"
            ctx.store.finish_now(job, ctx.config.max_hang_seconds)
            ex.json(200, job_body(ctx, job, ctx.store.observe(job, count_get=False)))
            return
        ex.json(200, submit_body(job))

    @staticmethod
    def _redirect(ex: Exchange, spec: FaultSpec) -> None:
        """A 3xx to the POST (a proxy or a moved API): 307/308 tell a client to send the same body again."""
        ex.fault = spec.name
        code = int(spec.num("status", 307))
        ex.error(code, f"simulated {code}", {"Location": spec.get("target", API_PREFIX)})

    # --- GET /requests/{id} --------------------------------------------------------------------

    def _get_status(self, ex: Exchange, request_id: str) -> None:
        ctx = self.ctx
        ex.sleep(ctx.sampler.api_latency())
        header_specs = self._header_faults(ex)
        if header_specs is None:
            return
        faults = [s for s in header_specs if s.kind == Kind.GET] + ctx.faults.take(Kind.GET)
        job = ctx.store.get(request_id)
        if job is not None:
            job_fault = ctx.store.take_get_fault(job)
            if job_fault is not None:
                faults.append(job_fault)
        by_name = {s.name: s for s in faults}

        if self._early_fault(ex, by_name, "get"):
            return
        if job is None or "get_404" in by_name:
            ex.fault = "get_404" if job is not None else None
            ex.error(404, f"request {request_id} not found")
            return
        body = job_body(ctx, job, ctx.store.observe(job, count_get=True))
        if "get_malformed_json" in by_name:
            ex.fault = "get_malformed_json"
            ex.send(200, _malformed(body), "application/json")
            return
        ex.json(200, body)

    # --- GET /requests?model_id= and /models ---------------------------------------------------

    def _list(self, ex: Exchange) -> None:
        """The organisation's requests of one model (the SDK's get_requests); model_id is required."""
        ctx = self.ctx
        ex.sleep(ctx.sampler.api_latency())
        header_specs = self._header_faults(ex)
        if header_specs is None:
            return
        by_name = {s.name: s for s in header_specs if s.kind == Kind.GET} | {
            s.name: s for s in ctx.faults.take(Kind.GET)
        }
        if self._early_fault(ex, by_name, "get"):
            return
        model = (ex.query.get("model_id") or [""])[0]
        if not model:
            ex.error(400, "query parameter model_id is required")
            return
        try:
            page, size = (
                int((ex.query.get(name) or [default])[0]) for name, default in (("page", "1"), ("page_size", "0"))
            )
        except ValueError:
            page, size = 0, 0
        if page < 1 or size < 0:
            ex.error(400, "page must be a whole number from 1, page_size a whole number")
            return
        jobs = [(job, ctx.store.observe(job, count_get=False)) for job in ctx.store.of_model(model)]
        ex.json(200, list_body(ctx, jobs, page, size))

    def _models(self, ex: Exchange, model: str) -> None:
        if ex.method != "GET" or "/" in model:
            ex.error(405 if "/" not in model else 404, "only GET /models and GET /models/{model_id}")
        elif not model:
            ex.json(200, model_list(self.ctx.config.models))
        elif model not in (*self.ctx.config.models, *catalog.ids()):  # the models a POST may name
            ex.error(404, f"model {model} not found")
        else:
            ex.json(200, model_detail(model, self.ctx.config.org_id, self.ctx.config.prices.get(model)))


def _malformed(body: dict[str, Any]) -> bytes:
    text = json.dumps(body).encode()
    return text[: max(1, len(text) // 2)]
