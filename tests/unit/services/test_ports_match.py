"""The adapters and the in-memory fakes offer every method of their port, with the port's parameters, so a
port that changes cannot leave a fake (and the fast service tests) behind. mypy checks the types; the test
gate does not type-check tests, so this checks the shape at run time."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from i2v.adapters.breaker import GmiSubmitBreaker
from i2v.adapters.gmi import GmiClient
from i2v.adapters.manifests import ManifestSummaries
from i2v.adapters.pacing import SubmitPace
from i2v.adapters.publisher import EventPublisher
from i2v.adapters.queue import SubmitQueue, WatchQueue
from i2v.adapters.repository import JobRepository
from i2v.adapters.storage import SourceImages, VideoStore
from i2v.adapters.stored_video import StoredVideos
from i2v.adapters.video_source import VideoSource
from i2v.adapters.workflow import Executions, TaskTokens, WorkflowStarter
from i2v.services import ports
from support import fakes

TRIPLES = [
    (ports.JobRepositoryPort, JobRepository, fakes.FakeJobRepository),
    (ports.GmiPort, GmiClient, fakes.FakeGmi),
    (ports.PublisherPort, EventPublisher, fakes.FakePublisher),
    (ports.ImageStoragePort, SourceImages, fakes.FakeImageStorage),
    (ports.VideoStoragePort, VideoStore, fakes.FakeVideoStorage),
    (ports.WorkflowPort, WorkflowStarter, fakes.FakeWorkflow),
    (ports.SubmitBreakerPort, GmiSubmitBreaker, fakes.FakeBreaker),
    (ports.SubmitPacePort, SubmitPace, fakes.FakePace),
    (ports.WatchQueuePort, WatchQueue, fakes.FakeWatchQueue),
    (ports.TaskTokenPort, TaskTokens, fakes.FakeTaskTokens),
    (ports.StaleJobsPort, JobRepository, fakes.FakeJobRepository),
    (ports.ExecutionsPort, Executions, fakes.FakeExecutions),
    (ports.StoredVideoPort, StoredVideos, fakes.FakeStoredVideos),
    (ports.ManifestSummaryPort, ManifestSummaries, fakes.FakeManifestSummaries),
    (ports.MessageBatchPort, SubmitQueue, fakes.FakeMessageBatch),
]


def _methods(port: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(port).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize(("port", "adapter", "fake"), TRIPLES, ids=[t[0].__name__ for t in TRIPLES])
def test_adapter_and_fake_offer_the_port(port: type, adapter: type, fake: type) -> None:
    methods = _methods(port)
    assert methods, f"{port.__name__} declares nothing"
    for name, member in methods.items():
        if isinstance(member, property):  # an attribute is enough (e.g. GmiClient.model)
            continue
        for implementation in (adapter, fake):
            assert _parameters(getattr(implementation, name)) == _parameters(member), (implementation, name)


# Ports whose service tests use the real adapter (the video host mocked with `responses`): no fake to compare.
PAIRS = [(ports.VideoSourcePort, VideoSource)]


@pytest.mark.parametrize(("port", "adapter"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_adapter_offers_the_port(port: type, adapter: type) -> None:
    for name, member in _methods(port).items():
        assert _parameters(getattr(adapter, name)) == _parameters(member), (adapter, name)
