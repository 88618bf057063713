"""The monthly bill on the cost page (benchmark 5): the idle row, the fixed items beside the per-video ones, the
all-in cost per video, and what the figures assume (benchmarks.bill, benchmarks.bill_volume)."""

from __future__ import annotations

from collections.abc import Mapping

from benchmarks import bill, bill_volume
from benchmarks.bill import MonthLine, month_total
from benchmarks.bill_writes import WATCH_CLAIM_BYTES
from benchmarks.prices import BILL_PRICES, PRICE_SOURCES, PRICES, PRICES_DATE
from benchmarks.pricing import media_storage_per_month
from benchmarks.pricing_model import KINDS
from benchmarks.report import Row, mark, md_table, ratio

IDLE_TARGET = 3.00  # issue 25: the stack's idle cost with the default configuration, $ a month
# The watch queue's share of the fixed items, which the fixed 60 s Wait schedule would not have: its mapping's
# empty long polls and two alarm metrics (its DLQ, its oldest message).
WATCH_ALARM_METRICS = 2


def watch_queue_month() -> float:
    polls = bill.IDLE_POLLERS * bill.IDLE_RECEIVES_PER_POLLER_MINUTE * bill_volume.MONTH_SECONDS / 60
    return polls * PRICES["sqs_request"] + WATCH_ALARM_METRICS * BILL_PRICES["cw_alarm_metric_month"]


def rows(month: Mapping[str, list[MonthLine]], per_video: Mapping[int, tuple[float, float]]) -> list[Row]:
    if "idle" not in month:
        return []
    idle = month_total(month["idle"])
    out = [
        Row(
            "stack idle, default configuration: $ a month (list prices, no free tier; itemized in section 5)",
            f"{idle:.2f}",
            target=f"<= ${IDLE_TARGET:.2f}",
            met=mark(idle <= IDLE_TARGET),
        )
    ]
    for videos, (ours, base) in per_video.items():
        fixed = month_total(month[f"{videos:,} a month"])
        all_in, base_all_in = ours + fixed / videos, base + (fixed - watch_queue_month()) / videos
        out += [
            Row(f"fixed monthly items at {videos:,} videos a month: $ a month", f"{fixed:.2f}"),
            Row(
                f"all-in $ per video at {videos:,} a month (the steady mix + the fixed items / videos; context, "
                "not the target)",
                f"{all_in:.6f}",
                f"{base_all_in:.6f} (fixed 60 s)",
                ratio(all_in, base_all_in),
            ),
        ]
    return out


def section(month: Mapping[str, list[MonthLine]]) -> list[str]:
    if "idle" not in month:
        return []
    columns = list(month)
    items = [line.item for line in month["idle"]]
    body = [
        [item, *(f"${month[c][i].dollars:.2f} ({month[c][i].quantity})" for c in columns)]
        for i, item in enumerate(items)
    ]
    body.append(["**total**", *(f"**${month_total(month[c]):.2f}**" for c in columns)])
    media = ", ".join(f"${media_storage_per_month(kind):.6f} ({kind.name})" for kind in KINDS)
    return [
        "**The monthly bill** (issue 25): what the stack costs whether or not it makes videos, from the synthesized "
        "template with the default configuration (`cdk.json`), list prices, no free tier. Custom metrics are "
        "billed per metric for the hours in which it has data, so they grow with the volume up to "
        f"${BILL_PRICES['cw_custom_metric_month']:.2f} a month each: a successful job emits {bill.METRICS_PER_JOB} "
        "(JobsSubmitted, JobsSucceeded, VideoBytes, GenerationSeconds) and a cold submit Powertools' ColdStart; "
        "the alarms' metrics (SubmitAmbiguous, UnknownGmiStatus) cost nothing while nothing goes wrong. Folding "
        "them into fewer names with a dimension would save nothing: CloudWatch bills each combination of name and "
        f"dimensions as a metric. Target: the idle stack at most ${IDLE_TARGET:.2f} a month.",
        "",
        md_table(["item", *columns], body),
        "",
        "Opt-in items (off by default, priced in the README's configuration table): the dashboard (`dashboard`, "
        f"${BILL_PRICES['cw_dashboard_month']:.2f} a month), X-Ray traces of every look (`trace_looks`, the "
        "lever below), an alarm e-mail subscription (free), signed webhooks (`webhooks`: a secret each, "
        f"${BILL_PRICES['secret_month']:.2f} a month, and a queue polled like the others).",
        "",
        "**Per video, every billed item**: besides the lines above the monthly table, the INIT phase of cold starts "
        "(billed since 2025-08-01; an idle execution environment assumed reclaimed after "
        f"{bill_volume.KEEP_WARM_SECONDS} s, so at {bill_volume.VOLUMES[0]:,} videos a month each function starts cold once per "
        f"job, and the watch function after each hop; INIT = benchmark 3's import and init when it ran, else "
        f"{bill_volume.INIT_MS_FALLBACK:.0f} ms, + {bill_volume.RUNTIME_INIT_MS:.0f} ms for the runtime); X-Ray traces (each "
        "SQS-triggered invocation starts one, linked to its producer's, not continuing it, so the watch "
        "function in PassThrough records none; the execution and its Lambda tasks join submit's, whose trace "
        "header botocore forwards on StartExecution; Lambda records the first request each second and 5 % of the rest, per function, "
        "arrivals spread evenly; each recorded trace counted as read once, an upper bound); DynamoDB writes index by "
        "index (a status change moves the job in `by-status`: a delete and a put; an index that projects every "
        "attribute rewrites its entry on every write of the item; the watch function's claim of each look, branch "
        f"watch-path, adds one UpdateItem per look and {WATCH_CLAIM_BYTES} B to the item); reads of the GMI key "
        f"(each cold start, and a warm copy older than {bill_volume.SECRET_CACHE_SECONDS} s; each one a KMS Decrypt); "
        "storage: logs for their retention, the job record and its index entries with PITR for a month, the event "
        "archive, S3 access log records. Not in the cost per video: your media in S3 Standard, "
        f"{media} a month per video kept (yours to keep or expire), and GMI's price.",
        "",
        f"Prices (us-east-1, checked {PRICES_DATE}; verify before relying on them): "
        + "; ".join(f"{what} ({where})" for what, where in PRICE_SOURCES)
        + ".",
        "",
    ]
