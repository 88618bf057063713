"""DynamoDB write and read units of one job, index by index, as the stack's indexes project them (issue 25)."""

from __future__ import annotations

import math

from benchmarks.bill_facts import StackFacts

# The watch function's per-look claim (branch watch-path): one conditional UpdateItem on the job item per look and
# per hop. Its attributes as that branch writes them: names 51 B; watch_chain 16 hex; watch_look a small number
# (2 B); watch_message an SQS message id (36); watch_lease_until an epoch float (~9 B).
WATCH_CLAIM_BYTES = 51 + 16 + 2 + 36 + 9
TRANSITION_ATTRIBUTES = frozenset({"status", "updated_at", "timestamps", "gmi_status", "poll_count"})
ANNOTATION_ATTRIBUTES = frozenset({"announced", "execution_name"})
CLAIM_ATTRIBUTES = frozenset({"watch_chain", "watch_look", "watch_message", "watch_lease_until"})


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def job_write_units(
    facts: StackFacts, item_bytes: int, transitions: float, annotations: float, claims: float
) -> tuple[float, float]:
    """(table WRU, index WRU) of one job: the claim (a 2-item transaction at 2x), its status changes (each one
    moves the job in by-status: a delete and a put), the annotations and the watch claims (non-key attributes:
    an index that projects them rewrites its entry, a narrow one is not written)."""
    own = facts.claim_on_own_item
    claimed_item = item_bytes + (WATCH_CLAIM_BYTES if claims and not own else 0)
    # On its own item (< 1 KB, no index keys) a claim is 1 WRU; on the job item it rewrites the whole item.
    claim_units = 1 if own else _kb(claimed_item)
    table = 2 * (_kb(item_bytes) + 1) + (transitions + annotations) * _kb(claimed_item) + claims * claim_units
    index = 0.0
    for idx in facts.indexes:
        entry = _kb(idx.entry_bytes(claimed_item))
        if idx.name == "by-time-class":  # sparse: only the success writes its (narrow) entry
            index += entry
            continue
        index += entry  # the new job's entry
        keyed = {idx.hash_key, idx.range_key}
        if keyed & TRANSITION_ATTRIBUTES:
            index += transitions * 2 * entry  # a key change: delete + put
        elif idx.projects(TRANSITION_ATTRIBUTES):
            index += transitions * entry
        if idx.projects(ANNOTATION_ATTRIBUTES):
            index += annotations * entry
        if idx.projects(CLAIM_ATTRIBUTES) and not own:
            index += claims * entry
    return table, index


def index_read_bytes(facts: StackFacts, item_bytes: int) -> int:
    """Bytes one by-status entry returns to the cold-class history query."""
    found = facts.index("by-status")
    return found.entry_bytes(item_bytes) if found else item_bytes
