"""The composition root: builds every function's service from its environment, once per process.

Each builder validates its function's environment model (i2v.config), builds the adapters the service's ports
need and hands both to the service; the handlers only parse, call and return. The imports sit inside the
builders: a function's cold start loads its own service and adapters alone (and only the previews function
ships PyAV). `clear()` forgets everything built, so the next call reads the environment again (the local stack
does, for each stack it starts in one process).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from i2v.handlers.observability import metrics

if TYPE_CHECKING:
    from i2v.adapters.gmi import GmiClient
    from i2v.adapters.manifests import ManifestSummaries
    from i2v.adapters.publisher import EventPublisher
    from i2v.adapters.repository import JobRepository
    from i2v.config import CommonEnv, GmiEnv, PollingEnv, SubmitEnv
    from i2v.services.complete import CompleteService
    from i2v.services.failure import FailureService
    from i2v.services.manifest import ManifestSplitter
    from i2v.services.poll import PollService
    from i2v.services.previews import PreviewService
    from i2v.services.submit import SubmitService
    from i2v.services.sweeper import Sweeper
    from i2v.services.watch import WatchService
    from i2v.services.webhooks import WebhookService


# ---- adapters shared by several functions ----------------------------------------------------------------------
def gmi_client(env: GmiEnv) -> GmiClient:
    """The GMI client of a function: the key read lazily from Secrets Manager, its own HTTP session."""
    import requests

    from i2v.adapters.gmi import GmiClient
    from i2v.adapters.secrets import ApiKeyReader

    return GmiClient(
        env.gmi_base_url,
        ApiKeyReader(env.gmi_api_key_secret_id),
        env.gmi_model_id,
        env.gmi_timeout_seconds,
        requests.Session(),
    )


def job_repository(env: CommonEnv) -> JobRepository:
    from i2v.adapters.repository import JobRepository

    return JobRepository(env.jobs_table_name)


def event_publisher(env: CommonEnv) -> EventPublisher:
    from i2v.adapters.publisher import EventPublisher

    return EventPublisher(env.event_bus_name, env.event_source)


def _poller(env: PollingEnv) -> PollService:
    """One look at a GMI request: the poll function's service, and the watch function's looks."""
    from i2v.services.poll import PollService

    return PollService(repo=job_repository(env), gmi=gmi_client(env), policy=env.poll_policy, metrics=metrics)


# ---- submit: uploads, manifest chunks and lines, resumes, reconciliations ------------------------------------------
@cache
def submit_env() -> SubmitEnv:
    from i2v.config import SubmitEnv

    return SubmitEnv.from_environ()


@cache
def manifest_summaries() -> ManifestSummaries:
    from i2v.adapters.manifests import ManifestSummaries

    return ManifestSummaries(submit_env().jobs_table_name)


@cache
def submit_service() -> SubmitService:
    from i2v.adapters.breaker import GmiSubmitBreaker
    from i2v.adapters.pacing import SubmitPace
    from i2v.adapters.queue import SubmitQueue
    from i2v.adapters.spend_metrics import SpendMetrics
    from i2v.adapters.storage import SourceImages
    from i2v.adapters.workflow import WorkflowStarter
    from i2v.services.submit import SubmitService
    from i2v.services.submit_gate import SubmitGate

    env = submit_env()
    return SubmitService(
        options=env.options(),
        repo=job_repository(env),
        images=SourceImages(),
        gmi=gmi_client(env),
        publisher=event_publisher(env),
        workflow=WorkflowStarter(env.state_machine_arn),
        requeue=SubmitQueue(env.submit_queue_url),
        metrics=metrics,
        spend_metrics=SpendMetrics(namespace=metrics.namespace),
        manifests=manifest_summaries(),
        gate=SubmitGate(
            breaker=GmiSubmitBreaker(env.jobs_table_name),
            pace=SubmitPace(env.jobs_table_name),
            rate_per_minute=env.submit_rate_per_minute,
            patience_seconds=env.gmi_outage_patience_seconds,
        ),
    )


def manifest_splitter() -> ManifestSplitter:
    """Built per chunk from the submit service's parts (a manifest chunk is rare; nothing to keep)."""
    from i2v.adapters.queue import SubmitQueue
    from i2v.services.manifest import ManifestSplitter

    env, service = submit_env(), submit_service()
    queue = SubmitQueue(env.submit_queue_url)
    return ManifestSplitter(
        service.images, queue, manifest_summaries(), service.publisher, env.input_prefix, env.manifest_prefix
    )


# ---- the looks: the Poll task and the watch queue ------------------------------------------------------------------
@cache
def poll_service() -> PollService:
    from i2v.config import PollingEnv

    return _poller(PollingEnv.from_environ())


@cache
def watch_service() -> WatchService:
    from i2v.adapters.queue import WatchQueue
    from i2v.adapters.workflow import TaskTokens
    from i2v.config import WatchEnv
    from i2v.services.watch import BATCH_TAIL_SECONDS, WatchService, worst_look_seconds

    env = WatchEnv.from_environ()
    return WatchService(
        poller=_poller(env),
        queue=WatchQueue(env.watch_queue_url),
        tokens=TaskTokens(),
        look_needs_seconds=worst_look_seconds(env.gmi_timeout_seconds) + BATCH_TAIL_SECONDS,
    )


# ---- a job's end: complete, fail, and the sweeper ------------------------------------------------------------------
@cache
def complete_service() -> CompleteService:
    import requests

    from i2v.adapters.manifests import ManifestSummaries
    from i2v.adapters.storage import VideoStore
    from i2v.adapters.video_source import VideoSource
    from i2v.config import CompleteEnv
    from i2v.services.complete import CompleteService

    env = CompleteEnv.from_environ()
    return CompleteService(
        options=env.options(),
        repo=job_repository(env),
        gmi=gmi_client(env),
        store=VideoStore(part_size=env.video_part_size_bytes),
        publisher=event_publisher(env),
        videos=VideoSource(env.allowed_hosts, env.allow_private_video_addresses, requests.Session()),
        metrics=metrics,
        manifests=ManifestSummaries(env.jobs_table_name),
    )


@cache
def failure_service() -> FailureService:
    from i2v.config import FailEnv

    return _failures(FailEnv.from_environ())


def _failures(env: CommonEnv) -> FailureService:
    """How a job's failure is recorded, for the fail function and the sweeper alike: a manifest line's job that
    ends either way is counted, so its manifest completes."""
    from i2v.adapters.manifests import ManifestSummaries
    from i2v.services.failure import FailureService

    return FailureService(
        repo=job_repository(env),
        publisher=event_publisher(env),
        metrics=metrics,
        manifests=ManifestSummaries(env.jobs_table_name),
    )


@cache
def sweeper_service() -> Sweeper:
    from i2v.adapters.queue import SubmitQueue
    from i2v.adapters.workflow import Executions
    from i2v.config import SweeperEnv
    from i2v.services.sweeper import Sweeper, windows

    env = SweeperEnv.from_environ()
    repo = job_repository(env)
    return Sweeper(
        jobs=repo,
        repo=repo,
        executions=Executions(env.state_machine_arn),
        submit_queue=SubmitQueue(env.submit_queue_url),
        failures=_failures(env),
        windows=windows(env.sweep_submit_message_seconds),
        limit_per_status=env.sweep_limit_per_status,
        metrics=metrics,
    )


# ---- after a job: previews and webhooks ----------------------------------------------------------------------------
@cache
def previews_service() -> PreviewService:
    from i2v.adapters.media import render_previews
    from i2v.adapters.storage import VideoStore
    from i2v.adapters.stored_video import StoredVideos
    from i2v.config import PreviewsEnv
    from i2v.services.previews import PreviewService

    env = PreviewsEnv.from_environ()
    return PreviewService(
        repo=job_repository(env),
        videos=StoredVideos(),
        store=VideoStore(),
        publisher=event_publisher(env),
        render=render_previews,
        metrics=metrics,
    )


@cache
def webhook_service() -> WebhookService:
    from i2v.adapters.webhooks import WebhookPoster, read_secret
    from i2v.config import WebhookEnv
    from i2v.services.webhooks import WebhookService

    return WebhookService(targets=WebhookEnv.from_environ().webhooks, read_secret=read_secret, poster=WebhookPoster())


BUILT = (
    submit_env,
    manifest_summaries,
    submit_service,
    poll_service,
    watch_service,
    complete_service,
    failure_service,
    sweeper_service,
    previews_service,
    webhook_service,
)


def clear() -> None:
    """Forget every service built: the next call validates the environment again."""
    for built in BUILT:
        built.cache_clear()
