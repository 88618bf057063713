"""The CDK feature flags the pipeline is built and tested with (the `@aws-cdk/...` keys of cdk.json's context).

An app that uses the installed construct has its own cdk.json, or none (then every flag is off and, e.g., the access
log buckets would need ACLs). The construct sets each flag the app leaves unset on its own scope, so its resources
come out as the suite checks them; a flag the app sets keeps the app's value. Flags read at stack or app level are
outside its reach. The wheel packs cdk.json beside paths.py (i2v_infra.paths.CDK_JSON).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from constructs import Node

from i2v_infra.paths import CDK_JSON


@functools.cache
def feature_flags() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return {key: value for key, value in context.items() if key.startswith("@aws-cdk")}


def apply_feature_flags(node: Node) -> None:
    """Set the flags the app leaves unset on `node` (before it has children: CDK refuses later)."""
    for flag, value in feature_flags().items():
        if node.try_get_context(flag) is None:
            node.set_context(flag, value)
