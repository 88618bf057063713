"""Schema version 1 of the pipeline's event details: what each EventBridge event carries in `detail`.

These models are the one source of the v1 contract: `schemas/events/v1/*.json` and the EventBridge Schema
Registry are generated from them (`i2v_events.schemas`). They read tolerantly: unknown fields are ignored and
enum values added later in v1 arrive as plain strings, so a subscriber built on an older 1.x keeps working while
v1 grows (within v1, changes are additive only: docs/subscribers.md).

Since 1.2.0 each kind's models are in its own module (`i2v_events.v1.kinds.<kind>`), the field types the kinds
share in `i2v_events.v1.fields`, and the registry of kinds in `i2v_events.v1.kinds`; this module exports them.
"""

from __future__ import annotations

# The names outside `__all__` stay importable from here, as before 1.2.0 (hence the noqa).
from i2v_events.v1.fields import (  # noqa: F401
    ESTIMATE_TEXT,
    NEVER_NULL,
    OPEN_OBJECT,
    PRICE_SOURCE_TEXT,
    SCHEMA_VERSION,
    SIGNED_URL_PATTERN,
    FailedStatus,
    FailureCategory,
    FailureInfo,
    OpenFailedStatus,
    OpenFailureCategory,
    OpenPriceSource,
    OutputRef,
    PosterRef,
    PriceSource,
    Settings,
    SourceRef,
    Timestamp,
)
from i2v_events.v1.kinds import DETAIL_KINDS, DETAIL_MODELS, DetailType
from i2v_events.v1.kinds.failed import FailedDetail
from i2v_events.v1.kinds.manifest_completed import ManifestCompletedDetail, ManifestRef
from i2v_events.v1.kinds.preview_ready import (  # noqa: F401
    AnimatedPreviewRef,
    PosterFrameRef,
    PreviewImageRef,
    PreviewReadyDetail,
    PreviewsRef,
    VideoRef,
)
from i2v_events.v1.kinds.submitted import SubmittedDetail
from i2v_events.v1.kinds.succeeded import SucceededDetail

__all__ = [
    "DETAIL_KINDS",
    "DETAIL_MODELS",
    "SCHEMA_VERSION",
    "DetailType",
    "FailedDetail",
    "FailedStatus",
    "FailureCategory",
    "FailureInfo",
    "ManifestCompletedDetail",
    "ManifestRef",
    "OutputRef",
    "PosterRef",
    "PreviewReadyDetail",
    "PreviewsRef",
    "PriceSource",
    "Settings",
    "SourceRef",
    "SubmittedDetail",
    "SucceededDetail",
]
