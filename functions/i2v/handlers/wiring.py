"""Builds the adapters every handler shares from its validated environment: one place for the wiring."""

from __future__ import annotations

import requests

from i2v.adapters.gmi import GmiClient
from i2v.adapters.publisher import EventPublisher
from i2v.adapters.repository import JobRepository
from i2v.adapters.secrets import ApiKeyReader
from i2v.config import CommonEnv, GmiEnv


def gmi_client(env: GmiEnv) -> GmiClient:
    """The GMI client of a function: the key read lazily from Secrets Manager, its own HTTP session."""
    return GmiClient(
        env.gmi_base_url,
        ApiKeyReader(env.gmi_api_key_secret_id),
        env.gmi_model_id,
        env.gmi_timeout_seconds,
        requests.Session(),
    )


def job_repository(env: CommonEnv) -> JobRepository:
    return JobRepository(env.jobs_table_name)


def event_publisher(env: CommonEnv) -> EventPublisher:
    return EventPublisher(env.event_bus_name, env.event_source)
