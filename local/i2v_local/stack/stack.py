"""The local stack: the synthesized template's resources in moto, our handlers running in-process (usage: README.md).

Modes: "mock" (moto.mock_aws in this process, for tests) and "server" (moto's ThreadedMotoServer on
127.0.0.1, for the demo/CLI and other processes: `stack.endpoint_url`, `stack.client_env()`).
Both execute the real state machine definition with moto's Step Functions interpreter.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, nullcontext
from types import TracebackType
from typing import Any, Literal

import boto3
import requests
from aws_lambda_powertools.utilities.parameters.base import clear_caches
from moto import mock_aws
from moto.core.config import DefaultConfig, default_user_config
from moto.server import ThreadedMotoServer

from i2v.adapters.aws import reset_clients
from i2v_cli.taps import EventTap
from i2v_local.stack.botocore_models import models_parsed_once
from i2v_local.stack.bus_rules import BusLambdaRules
from i2v_local.stack.compat import moto_incompatibilities, quiet_moto_logs
from i2v_local.stack.executions import ExecutionWatcher
from i2v_local.stack.fixes import moto_as_aws
from i2v_local.stack.lambdas import HandlerRouter
from i2v_local.stack.pump import BackgroundPoller, SqsPump
from i2v_local.stack.resources import FunctionSpec, Provisioned, Provisioner
from i2v_local.stack.s3events import realistic_s3_events
from i2v_local.stack.settings import LocalSettings
from i2v_local.stack.template import DEFAULT_ACCOUNT, Resolver

logger = logging.getLogger(__name__)

Mode = Literal["mock", "server"]
SFN_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}}
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class LocalStackError(RuntimeError):
    pass


def _start_moto_server() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


_data_plane: list[str] = []
_data_plane_lock = threading.Lock()


def _shared_data_plane() -> str:
    """One HTTP server per process for mock mode (moto's backends are process-global, so it serves every
    stack); stopping a werkzeug server costs ~0.5 s, which a stack per test would pay each time."""
    with _data_plane_lock:
        if not _data_plane:
            server, url = _start_moto_server()
            atexit.register(server.stop)
            _data_plane.append(url)
        return _data_plane[0]


class LocalStack:
    """start()/stop() or a context manager. After start: `outputs` (the template's Outputs, resolved),
    `client(service)`, `functions`/`function("Poll")`, `router` (in-process invocations and hooks),
    `pump()` (one deterministic step), `run_until_idle()`, `wait_until()`, `tap_events()`,
    `start_background()` (demo), `client_env()` (server mode, for other processes)."""

    def __init__(self, template: Mapping[str, Any], settings: LocalSettings | None = None, mode: Mode = "mock") -> None:
        self.template = template
        self.settings = settings or LocalSettings()
        self.mode = mode
        self.endpoint_url: str | None = None  # server mode: where every AWS client must point
        self.data_endpoint_url: str | None = None  # the HTTP endpoint presigned S3 URLs use
        self.provisioned = Provisioned()
        self.router = HandlerRouter(())
        self.pumps: list[SqsPump] = []
        self.watcher: ExecutionWatcher | None = None
        self.bus_rules: BusLambdaRules | None = None  # Lambda targets of rules on our bus (webhook signer)
        self._exit = ExitStack()
        self._saved_env: dict[str, str | None] = {}
        self._server: ThreadedMotoServer | None = None
        self._poller: BackgroundPoller | None = None
        self._saved_sfn_config: Any = None
        self._started = False
        self._session: boto3.session.Session | None = None  # made at the first client, once started
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        if self._started:
            return self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _start(self) -> None:
        problems = moto_incompatibilities()
        if problems:
            raise LocalStackError("moto internals changed; update i2v_local.stack: " + "; ".join(problems))
        quiet_moto_logs()
        self._exit.enter_context(models_parsed_once())  # before this stack's first session
        if self.mode == "mock":
            self._exit.enter_context(mock_aws(config=SFN_CONFIG))
        self._set_env(
            {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.settings.region, "AWS_REGION": self.settings.region}
        )
        self._set_env({"AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_S3": None, "POWERTOOLS_TRACE_DISABLED": "true"})
        if self.mode == "mock":
            # GMI fetches the presigned image URL over HTTP: serve S3's data plane from the same backends.
            self.data_endpoint_url = _shared_data_plane()
            self._set_env({"AWS_ENDPOINT_URL_S3": self.data_endpoint_url})
        else:
            self.endpoint_url = self.data_endpoint_url = self._start_server()
            self._saved_sfn_config = default_user_config.get("stepfunctions")
            requests.post(f"{self.endpoint_url}/moto-api/config", json=SFN_CONFIG, timeout=10).raise_for_status()
            # moto's Step Functions interpreter calls Lambda through http://localhost:$MOTO_PORT in server mode.
            self._set_env({"AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": self.endpoint_url.rsplit(":", 1)[1]})
        if self.settings.ca_bundle_path:
            self._set_env({"REQUESTS_CA_BUNDLE": self.settings.ca_bundle_path})
        if self.settings.realistic_s3_events:
            self._exit.enter_context(realistic_s3_events())

        resolver = Resolver(self.template, self.settings.stack_name, self.settings.region, DEFAULT_ACCOUNT)
        provisioner = Provisioner(self.template, resolver, self.client, self.settings.overrides())
        self._check_overrides()
        self.provisioned = provisioner.provision(self.settings.secret_string())
        pumped = (
            {s.function_name for s in self.provisioned.event_sources} if self.settings.parallel_invocations else set()
        )
        functions = self.provisioned.functions.values()
        self.router = HandlerRouter(functions, parallel=[f.name for f in functions if pumped & {f.name, f.arn}])
        self._exit.enter_context(moto_as_aws(self.router))
        faults = self.settings.aws_faults
        self._exit.enter_context(faults.installed() if faults is not None else nullcontext())
        self._set_env(self.function_environment())
        self._reset_caches()
        self.router.load_handlers()
        sqs = self.client("sqs")
        self.pumps = [
            SqsPump(
                s,
                self.router,
                sqs,
                self.settings.region,
                self.settings.pump_visibility_timeout,
                parallel=self.settings.parallel_invocations,
                faults=faults,
            )
            for s in self.provisioned.event_sources
        ]
        machines = [
            p.ref for k, p in self.provisioned.physical.items() if self._type(k) == "AWS::StepFunctions::StateMachine"
        ]
        self.watcher = ExecutionWatcher(
            state_machine_arns=machines,
            rules=self.provisioned.lambda_rules,
            router=self.router,
            clients=self.client,
            account=DEFAULT_ACCOUNT,
            region=self.settings.region,
        )
        self.bus_rules = BusLambdaRules(self.provisioned.lambda_rules, self.router, self.client, faults)

    def _start_server(self) -> str:
        self._server, url = _start_moto_server()
        return url

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self._started:
            self._abort_running()
        if self._saved_sfn_config is not None:
            default_user_config["stepfunctions"] = self._saved_sfn_config
            self._saved_sfn_config = None
        self.router.unload_handlers()
        # Undo our variables before mock_aws restores its own snapshot (ours were saved on top of its fakes).
        self._restore_env()
        self._exit.close()
        if self._server is not None:
            # Server mode shares moto's in-process backends: forget this stack so the next one starts clean.
            if self.mode == "server" and self.endpoint_url:
                try:
                    requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10)
                except requests.RequestException as error:
                    logger.debug("could not reset moto: %s", error)
            self._server.stop()
            self._server = None
        self._reset_caches()
        self._clients.clear()
        self._started = False

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- clients and names --------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client of this stack (mock mode: intercepted by moto; server mode: pointed at it). Cached per
        service (clients are thread-safe, and each one costs a little to create)."""
        with self._clients_lock:
            self._session = self._session or boto3.session.Session()
            if service not in self._clients:
                self._clients[service] = self._session.client(  # type: ignore[call-overload]
                    service,
                    region_name=self.settings.region,
                    endpoint_url=self.endpoint_url if service != "s3" else self.data_endpoint_url,
                    aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                )
            return self._clients[service]

    def client_env(self) -> dict[str, str]:
        """Environment for another process (CLI, AWS CLI) to talk to this stack in server mode."""
        if self.endpoint_url is None:
            raise LocalStackError("client_env() needs mode='server'")
        return {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.settings.region, "AWS_ENDPOINT_URL": self.endpoint_url}

    @property
    def outputs(self) -> dict[str, str]:
        """The template's Outputs (InputBucketName, StateMachineArn, ...), resolved."""
        return self.provisioned.outputs

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return self.provisioned.functions

    def function(self, logical_part: str) -> FunctionSpec:
        """The function whose logical id contains `logical_part` (e.g. "Submit", "Poll")."""
        found = [f for f in self.functions.values() if logical_part in f.logical_id]
        if len(found) != 1:
            raise KeyError(f"{len(found)} functions match {logical_part!r}")
        return found[0]

    def physical_id(self, logical_part: str, resource_type: str) -> str:
        found = [
            p.ref for k, p in self.provisioned.physical.items() if logical_part in k and self._type(k) == resource_type
        ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} {resource_type} resources match {logical_part!r}")
        return found[0]

    def _type(self, logical: str) -> str:
        return str(self.template["Resources"][logical]["Type"])

    # ---- driving the pipeline -----------------------------------------------------------------------------
    def pump(self) -> int:
        """One deterministic step: drain the SQS event sources, emit ended executions' events."""
        handled = sum(p.pump() for p in self.pumps)
        if self.watcher is not None:
            handled += self.watcher.tick()
        if self.bus_rules is not None:
            handled += self.bus_rules.pump()
        return handled

    def running_executions(self) -> list[str]:
        return self.watcher.running() if self.watcher is not None else []

    def queued_messages(self) -> int:
        sqs, total = self.client("sqs"), 0
        for source in self.provisioned.event_sources:
            attributes = sqs.get_queue_attributes(
                QueueUrl=source.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            total += int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
        return total + (self.bus_rules.queued() if self.bus_rules is not None else 0)

    def _idle(self) -> bool:
        return not self.running_executions() and self.queued_messages() == 0

    def run_until_idle(self, timeout: float = 60.0, interval: float = 0.2) -> None:
        """Pump until no message is queued or in flight and no execution runs (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            # Idle, then one more pump (the events of the executions that just ended) that takes nothing, then still
            # idle: that pump may take a delayed message just come due (a reconcile look can start an execution).
            if self._idle() and not self.pump() and self._idle():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"local stack not idle after {timeout}s: {len(self.running_executions())} executions running, "
                    f"{self.queued_messages()} messages queued"
                )
            time.sleep(interval)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.1) -> None:
        """Pump until `predicate()` holds (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            self.pump()
            time.sleep(interval)

    def tap_events(self, pattern: dict[str, Any] | None = None, bus: str | None = None) -> EventTap:
        """Subscribe an SQS queue to the pipeline's bus (default: every event of our source)."""
        bus_name = bus or self.outputs["EventBusName"]
        source = self.function_environment().get("EVENT_SOURCE", "i2v.pipeline")
        return EventTap(self.client, bus_name, pattern or {"source": [source]})

    def start_background(self, interval: float = 0.5) -> None:
        """Demo/CLI: pump on a daemon thread until stop()."""
        if self._poller is None:
            self._poller = BackgroundPoller(self.pump, interval)
            self._poller.start()

    # ---- environment --------------------------------------------------------------------------------------
    def function_environment(self) -> dict[str, str]:
        """The union of the functions' environments; one process hosts them all, so they must agree."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if merged.setdefault(key, value) != value:
                    raise LocalStackError(f"functions disagree on {key}: {merged[key]!r} vs {value!r}")
        return merged

    def _check_overrides(self) -> None:
        known = {
            key
            for resource in self.template["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function"
            for key in ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        }
        unknown = sorted(set(self.settings.overrides()) - known)
        if unknown:
            raise LocalStackError(f"overrides of variables no function has: {unknown}")

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    @staticmethod
    def _reset_caches() -> None:
        reset_clients()
        clear_caches()  # type: ignore[no-untyped-call]  # Powertools keeps the secrets provider (and its endpoint) per process

    def _abort_running(self) -> None:
        # An execution still waiting would call Lambda after the mock is gone; stop it first.
        try:
            sfn = self.client("stepfunctions")
            for arn in self.running_executions():
                sfn.stop_execution(executionArn=arn, error="LocalStackStopped")
        except Exception as error:
            logger.debug("could not stop running executions: %s", error)

    def describe(self) -> dict[str, Any]:
        """A summary for humans (the CLI prints it)."""
        return {
            "mode": self.mode,
            "endpoint_url": self.endpoint_url,
            "outputs": self.outputs,
            "functions": {f.logical_id: f.name for f in self.functions.values()},
            "skipped": sorted(set(self.provisioned.skipped.values())),
            "environment": json.loads(json.dumps(self.function_environment())),
        }
