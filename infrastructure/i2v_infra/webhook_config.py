"""The `webhooks` setting: where to POST which pipeline events, signed the Standard Webhooks way."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s#]*)?$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
EventKind = Literal["submitted", "succeeded", "failed", "preview_ready"]


class WebhookConfig(BaseModel):
    """One receiver. Its signing secret lives in Secrets Manager: an existing one (`secret_arn`), or one the
    stack creates (its ARN is a stack output; give the receiver `whsec_` + the secret's value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$", description="names its rule and secret")
    url: str
    events: tuple[EventKind, ...] = ("succeeded", "failed")
    secret_arn: str | None = None

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not _URL.fullmatch(value):
            raise ValueError("must be an https:// URL without credentials or fragment, e.g. https://example.com/hook")
        return value

    @field_validator("events")
    @classmethod
    def _some_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("must list some of submitted, succeeded, failed, preview_ready, each once")
        return value

    @field_validator("secret_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_ARN.fullmatch(value):
            raise ValueError("must be a Secrets Manager secret ARN")
        return value


def _unique_names(value: tuple[WebhookConfig, ...]) -> tuple[WebhookConfig, ...]:
    names = [hook.name for hook in value]
    if len(set(names)) != len(names):
        raise ValueError(f"webhook names must be unique, got {names}")
    return value


Webhooks = Annotated[tuple[WebhookConfig, ...], AfterValidator(_unique_names)]
