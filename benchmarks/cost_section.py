"""Benchmark 5's section of docs/benchmarks.md (benchmarks.cost): what the figures rest on, the monthly bill
(benchmarks.bill_section), the cost lines per video, the whole mix per scenario, each model alone and the levers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from benchmarks import bill_section
from benchmarks.bill_writes import WATCH_CLAIM_BYTES
from benchmarks.cost_measure import HIGH, LOW, Costs, LeverResult
from benchmarks.levers import LEVERS, Lever
from benchmarks.mix import DEFAULT_SIGMA
from benchmarks.policy import POLL_OVERHEAD_SECONDS, SQS_DELIVERY_SECONDS, SQS_MAX_DELAY_SECONDS
from benchmarks.prices import PRICES_DATE
from benchmarks.pricing import VIDEO_MIB_PER_SECOND, total
from benchmarks.pricing_invocations import AWS_CALL_MS, GMI_CALL_MS, SQS_REQUESTS_PER_MESSAGE, WATCH_AWS_CALLS
from benchmarks.report import Run, md_table, ratio
from benchmarks.stepfunctions import wait_loop, watched


def _deployed_results(found: Costs) -> tuple[list[LeverResult], list[LeverResult]]:
    """The deployed lever's results per sigma, and the fixed 60 s schedule's by the same queue."""
    deployed = [r for r in found.levers if r.lever.deployed]
    on_queue = [r for r in found.levers if r.lever.watch_queue and r.lever.on_fixed_60]
    return deployed, on_queue


def spread(values: Sequence[float], digits: int = 2) -> str:
    """`low-high` of `values`, or one number when both ends round alike."""
    low, high = min(values, default=0.0), max(values, default=0.0)
    return f"{low:.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{low:.{digits}f}-{high:.{digits}f}"


def _intro(found: Costs) -> list[str]:
    walked = watched()
    return [
        f"Public AWS list prices, us-east-1, as of {PRICES_DATE} (no free tier): Lambda arm64 "
        "$0.0000133334 per GB-s and $0.20 per million requests; Step Functions Standard $0.025 per 1,000 state "
        "transitions; DynamoDB on-demand $0.625 per million write request units, $0.125 per million read request "
        "units; S3 PUT $0.005 per 1,000, GET $0.0004 per 1,000; SQS $0.40 per million requests; EventBridge custom "
        "events $1.00 per million; CloudWatch Logs ingestion $0.50 per GB; X-Ray $5.00 per million traces; Secrets "
        "Manager $0.05 per 10,000 API calls; the other prices and their sources under the monthly bill below. "
        "Check current prices before relying on these.",
        "",
        "Quantities: each replayed job of benchmark 1 priced on its own looks, hops and rounds (ours: the deployed "
        "policy, its looks on the watch queue; the fixed 60 s schedule on the same jobs); AWS requests per job as "
        "counted in benchmark 4 and read from the code paths; DynamoDB units from the measured job item size "
        f"({found.job_item_bytes} B; updates bill the whole item, and each index as below; the claim is a "
        "2-item transaction at 2x; the success writes one by-time-class index entry; the history query reads the "
        "class's latest 50 narrow index items, plus, for a cold class, the latest 200 job items, eventually "
        "consistent); "
        f"Lambda memory from the template; durations = local median + {AWS_CALL_MS:.0f} ms per AWS call + "
        f"{GMI_CALL_MS:.0f} ms per GMI call + video at {VIDEO_MIB_PER_SECOND:.0f} MiB/s (assumptions: "
        "real latencies differ); assumed GMI MP4 sizes 4 MiB (540p/5 s) and 16 MiB (1080p/5 s); SQS as a batch of "
        "one (steady traffic); logs = handler output measured in benchmark 4 + Lambda's start and report lines "
        "when the template's system log level lets them through (WARN: not) + the state "
        "machine's ALL-level execution log. GMI's generation price is not known offline: see GMI Cloud's pricing page for pixverse-v5.5-i2v "
        "(540p/5 s and 1080p/5 s); it dwarfs every line below. Volume matters per video through cold starts, "
        "X-Ray's sampling and the reads of the GMI key: every figure is given at "
        f"{LOW:,} and at {HIGH:,} videos a month (the per-model, per-scenario and lever rows at {LOW:,}, the "
        "harder case for the ratio).",
        "",
        "**How a job is watched (deployed).** The Watch state sends the job with its task token to the watch "
        f"queue, delayed by the policy's next wait (SQS delays a message at most {SQS_MAX_DELAY_SECONDS} s; a longer "
        "wait is sent on in hops, each an invocation without a GET). Each delivery wakes the watch function "
        f"({found.watch_memory_mb or 128} MB), which heartbeats the token, then either sends the job on (a hop: "
        "the look is not due yet) or looks once (one GET; the record is written only when GMI's status changed) "
        "and sends the job on, delayed by the next wait, or answers the token with the verdict. Nothing is slept "
        "in an invocation. Per look or hop: one "
        f"watch invocation (its local median + {WATCH_AWS_CALLS} AWS calls, + the GET for a look), "
        f"{SQS_REQUESTS_PER_MESSAGE} SQS requests (SendMessage, the first one made by Step Functions; the event "
        "source mapping's ReceiveMessage; DeleteMessageBatch) and its log lines; per job one Watch round: "
        f"{walked.transitions} state transitions ({', '.join(walked.states)}) and {walked.history_events} history "
        "events (the callback task logs 6: TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted, "
        f"TaskSucceeded, TaskStateExited). **Assumed, not measured**: SQS delivers a delayed message "
        f"{SQS_DELIVERY_SECONDS:.0f} s after its delay ends. It is part of every wait: the replay spaces two looks "
        f"by the wait + {SQS_DELIVERY_SECONDS:.0f} s + {POLL_OVERHEAD_SECONDS} s (invocation and GET), so the lag "
        "shown includes it and the looks are as many as the policy needs with it.",
        "",
        "**The baseline** is what the workflow ran before the Watch state, on the same jobs: Wait (60 s) -> Poll "
        f"(the poll function at {found.poll_memory_mb} MB, the same record writes) -> Route rounds, 3 transitions "
        f"and {wait_loop(2).history_events - wait_loop(1).history_events} history events a round (benchmarks/"
        "stepfunctions.py, WAIT_LOOP_DEFINITION: stated apart so that it does not move with the deployed "
        "definition). The poll function is timed by its own median in benchmark 4, or, when the burst ran none "
        "(the Watch path does not invoke it), by the watch function's, the same look. Every figure is a mean over "
        "the replayed jobs' own looks, invocations and rounds, for ours and the baseline alike.",
        "",
    ]


def _levers_text(found: Costs, sigmas: list[float]) -> str:
    def ratios(chosen: Callable[[Lever], bool], sigma: float | None = None) -> list[float]:
        return [r.ours / r.fixed_60 for r in found.levers if chosen(r.lever) and (sigma is None or r.sigma == sigma)]

    widest = max(sigmas, default=0.0)
    previous = ratios(lambda lever: lever.name.startswith("previous"), widest)
    bounds = ratios(lambda lever: lever.true_window, widest)
    deployed, on_queue = _deployed_results(found)
    against_queue = [d.ours / q.ours for d, q in zip(deployed, on_queue, strict=True)]
    return (
        "**Levers** (issue 14): the design's history, one lever added at a time on the steady stream, down to "
        "the deployed row; each row replays the policy it implies and prices it with the same model (cells: lag "
        "p50 / p95, mix $ per video, ratio to the fixed 60 s schedule). The first five rows, down to *previous*, "
        "are the design before the Watch state: the poll function slept through waits up to 45 s inside its "
        "invocation (a Wait, Poll, Route round costs 3 transitions ($0.000075) plus its logs and invocation, "
        "about 45 s of a sleeping 128 MB arm64 function at $0.0000016667 a second). At the widest spread (sigma "
        f"{widest}) it cost {spread(previous)}x, and its two bounds, which replay the same jobs with each class's "
        f"real window in place of the learned one (no learning error), {spread(bounds)}x: the seconds a job must "
        "be watched (from its class's p3 to its finish, to keep lag p95 under 6 s) cost about what a 60 s "
        "schedule's extra rounds do, so only a cheaper way to watch could move that spread under the target. The "
        "modelled rows were measured against that design and are not built: a shared poller (one invocation "
        "polling every due job, each execution waiting on a task token) splits the awake time among the jobs "
        "being polled at once, which pays off only with several jobs in their window, and needs a lease, a "
        "self-restart and token bookkeeping; an HTTP task per poll bills 3 transitions a look. An Express inner "
        "loop (not in the table) would bill a waiting second at 64 MB ($0.0000010417) plus a Lambda invocation per "
        "look, and its log events, against $0.0000016667 slept in the function: at most about a third of the "
        "sleeping line, for a second state machine and nested executions that moto's interpreter does not run "
        "locally. **Deployed**: each look is a watch invocation woken by a delayed SQS message, so a look costs one "
        "short invocation, three SQS requests and its log lines, and nothing is slept; its lag includes SQS's "
        f"delivery in every wait (assumed {SQS_DELIVERY_SECONDS:.0f} s), and it costs "
        f"{spread([r.ours / r.fixed_60 for r in deployed])}x the fixed 60 s schedule at sigma "
        f"{', '.join(str(s) for s in sigmas)}. The last row is not a policy: the fixed 60 s schedule watched the "
        "same way, what that baseline would cost if it used the queue too "
        f"({spread([r.ours / r.fixed_60 for r in on_queue])}x); ours costs {spread(against_queue)}x that, since it "
        "looks more often. The target compares with the fixed 60 s Wait-state schedule (the baseline above). The "
        "rows marked issue 25 price the deployed policy on the stack built otherwise: every look traced "
        "(`trace_looks`: each SQS-triggered look is a trace of its own), both job indexes projecting every "
        "attribute (`wide_indexes`, the layout before: each write of the job item rewrites both entries), and, "
        "modelled for branch watch-path, each look's claim on a small item of its own instead of the job item "
        f"(1 write unit a look; on the job item, {found.job_item_bytes} B with the default prompt, a claim bills "
        f"{-(-(found.job_item_bytes + WATCH_CLAIM_BYTES) // 1024)} units, and 3 once the item passes 2 KB: a prompt "
        f"{max(0, 2048 - found.job_item_bytes - WATCH_CLAIM_BYTES)} characters longer)."
    )


def section(bench: Run) -> list[str]:
    found = bench.result("cost", Costs)
    if found is None:
        return []
    header = ["line", *found.lines.keys()]
    items = [line.item for line in next(iter(found.lines.values()))]
    body = []
    for index, item in enumerate(items):
        row = [item]
        for lines in found.lines.values():
            line = lines[index]
            row.append(f"${line.dollars:.6f} ({line.quantity:.1f} {line.unit})")
        body.append(row)
    body.append(["**total**", *(f"**${total(lines):.6f}**" for lines in found.lines.values())])
    body.append(["GMI generation", *("see GMI pricing" for _ in found.lines)])
    scenario_body = [
        [
            f"{s.videos:,}",
            s.result.scenario,
            f"{s.result.sigma}",
            str(s.result.peak_in_flight),
            "{lag_p50:.1f} / {lag_p95:.1f}".format(**s.result.ours.summary()),
            f"{s.ours:.6f}",
            f"{s.fixed_60:.6f}",
            ratio(s.ours, s.fixed_60),
        ]
        for s in found.scenarios
    ]
    sigmas = sorted({lever.sigma for lever in found.levers})
    lever_body = []
    for lever in LEVERS:
        cells = [f"**{lever.name}**" if lever.deployed else lever.name]
        for sigma in sigmas:
            (r,) = [x for x in found.levers if x.lever is lever and x.sigma == sigma]
            cells.append(f"{r.lag_p50:.1f} / {r.lag_p95:.1f} s, ${r.ours:.6f}, {ratio(r.ours, r.fixed_60)}")
        lever_body.append(cells)
    model_sigmas = list(found.per_model)
    model_body = [
        [
            model,
            *(
                f"${found.per_model[sigma][model].ours:.6f}, {found.per_model[sigma][model].ratio:.2f}x, "
                f"{found.per_model[sigma][model].lag_p50:.1f} / {found.per_model[sigma][model].lag_p95:.1f} s"
                for sigma in model_sigmas
            ),
        ]
        for model in next(iter(found.per_model.values()), {})
    ]
    return [
        *_intro(found),
        *bill_section.section(found.month),
        f"Mean cost lines per video of two classes (steady stream, sigma {DEFAULT_SIGMA}), at {LOW:,} and "
        f"{HIGH:,} videos a month; watch function at {found.watch_memory_mb or 128} MB, the baseline's poll function "
        f"at {found.poll_memory_mb} MB:",
        "",
        md_table(header, body),
        "",
        "**The whole mix, per scenario** ($ per video over every measured job, ours against the fixed 60 s "
        "schedule on the same jobs; ours' lag):",
        "",
        md_table(
            [
                "videos a month",
                "scenario",
                "sigma",
                "peak in flight",
                "lag p50 / p95 (s)",
                "ours $",
                "fixed 60 s $",
                "ratio",
            ],
            scenario_body,
        ),
        "",
        "**Each catalog model alone** (benchmark 1's one-model streams; ours: $ per video, ratio to the fixed 60 s "
        "schedule on the same jobs, lag p50 / p95):",
        "",
        md_table(["model", *(f"sigma {sigma}" for sigma in model_sigmas)], model_body),
        "",
        _levers_text(found, sigmas),
        "",
        md_table(["lever", *(f"sigma {s}" for s in sigmas)], lever_body),
        "",
    ]
