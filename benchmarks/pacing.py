"""Benchmark: pacing submissions to GMI's rate limit (issue 11, item 11).

1000 uploads dropped at once; GMI answers 429 to a submission when it already accepted `limit` in the trailing
60 s. The real submit service (claim, validation, the shared pace in the jobs table, the circuit breaker,
deferrals as fresh delayed messages) runs against moto (in-process) on a simulated clock: SQS delays, the
Lambda's remaining time, GMI's latency and rate window and the breaker's clock all read it, so 17 simulated
minutes take a few minutes of CPU. `CONCURRENCY` submit invocations run side by side, each on its own
simulated clock (the one furthest behind acts next, a record at a time); each record costs
`RECORD_OVERHEAD_SECONDS` and each POST `POST_LATENCY_SECONDS` of simulated time.
`python -m benchmarks.pacing [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks.pacing_sim import (
    START,
    TABLE,
    GmiRateWindow,
    Invocation,
    RateLimitedGmi,
    SimClock,
    SimQueue,
    Sink,
    moto,
    provision,
)
from benchmarks.report import Benchmark, Row, Run, mark, md_table

UPLOADS = 1000
RATE_PER_MINUTE = 60
RECORD_OVERHEAD_SECONDS = 0.05
BATCH_SIZE = 5
CONCURRENCY = 10  # submit invocations at once (submit_concurrency): well above what the pace needs
INVOCATION_TIMEOUT_SECONDS = 120


@dataclass
class PacingResult:
    uploads: int
    rate_per_minute: int
    concurrency: int
    succeeded: int
    lost: int
    duplicates: int
    posts: int
    refused_429: int
    deferrals: int
    dead_letters: int
    first_upload_at: float
    last_accept_at: float
    wall_seconds: float

    @property
    def share_429(self) -> float:
        return self.refused_429 / self.posts if self.posts else 0.0

    @property
    def total_seconds(self) -> float:
        return self.last_accept_at - self.first_upload_at

    @property
    def ideal_seconds(self) -> float:
        return self.uploads * 60.0 / self.rate_per_minute

    @property
    def over_ideal(self) -> float:
        return self.total_seconds / self.ideal_seconds - 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "share_429": self.share_429,
            "total_seconds": self.total_seconds,
            "ideal_seconds": self.ideal_seconds,
            "over_ideal": self.over_ideal,
        }


def run(
    uploads: int = UPLOADS, rate_per_minute: int = RATE_PER_MINUTE, concurrency: int = CONCURRENCY, seed: int = 11
) -> PacingResult:
    import time as real_time

    from i2v.adapters.breaker import GmiSubmitBreaker
    from i2v.adapters.pacing import SubmitPace
    from i2v.adapters.repository import JobRepository
    from i2v.adapters.storage import SourceImages
    from i2v.config import SubmitEnv
    from i2v.domain.jobs import JobStatus
    from i2v.services.submit import SubmitService
    from i2v.services.submit_gate import SubmitGate
    from i2v_local.timewarp import breaker_clock

    started = real_time.perf_counter()
    running = [SimClock()]  # the clock of the invocation being simulated (the breaker reads it)
    with moto(), breaker_clock(lambda: running[0].now):
        sources = provision(uploads)
        env = SubmitEnv.from_environ(
            {
                "JOBS_TABLE_NAME": TABLE,
                "EVENT_BUS_NAME": "bench",
                "GMI_API_KEY_SECRET_ID": "bench",
                "OUTPUT_BUCKET": "i2v-bench-output",
                "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:bench",
                "SUBMIT_RATE_PER_MINUTE": str(rate_per_minute),
                "DEFAULT_SETTINGS": json.dumps({"prompt": "bench"}),
            }
        )
        window, sink, queue = GmiRateWindow(rate_per_minute), Sink(), SimQueue()
        rng = random.Random(seed)  # noqa: S311 - jitter in a reproducible simulation, not security
        breaker, pace = GmiSubmitBreaker(TABLE), SubmitPace(TABLE)

        def invocation() -> Invocation:
            clock = SimClock()
            run = Invocation(clock, None)
            run.service = SubmitService(
                options=env.options(),
                repo=JobRepository(TABLE),
                images=SourceImages(),
                gmi=RateLimitedGmi(window, clock),
                publisher=sink,
                workflow=sink,
                requeue=queue.sender(clock),
                time_left_ms=lambda: int((run.deadline - clock.now) * 1000),
                sleep=clock.sleep,
                rng=rng,
                clock=clock.time,
                gate=SubmitGate(breaker, pace, rate_per_minute, env.gmi_outage_patience_seconds, rng),
            )
            return run

        invocations = [invocation() for _ in range(concurrency)]
        by_key = {source.key: source for source in sources}
        for source in sources:  # dropped at once: one notification each
            queue.put({"upload": source.key}, START)
        while True:
            # The invocation furthest behind in simulated time acts next: one record, or a new batch.
            due = queue.next_visible()
            ready = [
                (r.clock.now if r.batch or due is None else max(r.clock.now, due), i)
                for i, r in enumerate(invocations)
                if r.batch or due is not None
            ]
            if not ready:
                break
            _, index = min(ready)
            run = invocations[index]
            running[0] = run.clock
            if not run.batch:
                run.clock.now = max(run.clock.now, due or run.clock.now)
                run.batch = queue.receive(run.clock.now, BATCH_SIZE)
                run.deadline = run.clock.now + INVOCATION_TIMEOUT_SECONDS
                continue
            message = run.batch.pop(0)
            run.clock.sleep(RECORD_OVERHEAD_SECONDS)
            try:
                if "upload" in message.body:
                    run.service.submit_source(by_key[message.body["upload"]])
                else:
                    run.service.resume_job(message.body["job_id"])
            except Exception:  # a failed record comes back after the visibility timeout, as in SQS
                queue.fail(message, run.clock.now)
        repo = JobRepository(TABLE)
        statuses = Counter(str(job.status) for source in sources if (job := repo.get(_job_id(source))) is not None)
        accepted = Counter(key for _, status, key in window.posts if status == 200)
        return PacingResult(
            uploads=uploads,
            rate_per_minute=rate_per_minute,
            concurrency=concurrency,
            succeeded=statuses.get(str(JobStatus.SUBMITTED), 0),
            lost=sum(1 for key in by_key if accepted.get(key, 0) == 0),
            duplicates=sum(count - 1 for count in accepted.values() if count > 1),
            posts=len(window.posts),
            refused_429=sum(1 for _, status, _ in window.posts if status == 429),
            deferrals=queue.sent_delayed,
            dead_letters=len(queue.dead),
            first_upload_at=START,
            last_accept_at=max(t for t, status, _ in window.posts if status == 200),
            wall_seconds=real_time.perf_counter() - started,
        )


def _job_id(source: Any) -> str:
    from i2v.domain.source import job_id_for

    return job_id_for(source)


def _section_lines(r: PacingResult) -> list[str]:
    return [
        f"{r.uploads} uploads dropped at once; the simulated GMI answers 429 above {r.rate_per_minute} accepted "
        f"submissions in any trailing minute; `submit_rate_per_minute` = {r.rate_per_minute}, {r.concurrency} submit "
        "invocations at once. The real submit service (claim, validation, the shared pace item in the jobs table, "
        "the circuit breaker, deferrals as delayed messages) runs on moto in-process with a **simulated clock** "
        "(SQS delays, each invocation's remaining time, GMI's latency and rate window, the breaker): "
        f"{r.total_seconds / 60:.1f} simulated minutes took {r.wall_seconds:.0f} s here.",
        "",
        md_table(
            ["measure", "result", "target"],
            [
                ["lost uploads", str(r.lost), "0"],
                ["duplicate submissions", str(r.duplicates), "0"],
                ["POSTs answered 429", f"{r.refused_429} of {r.posts} ({r.share_429:.2%})", "<= 1 %"],
                [
                    "first upload to last accepted POST",
                    f"{r.total_seconds / 60:.2f} min ({r.over_ideal:+.1%})",
                    f"ideal {r.ideal_seconds / 60:.2f} min, within 10 %",
                ],
                ["deferrals (delayed messages)", str(r.deferrals), "-"],
                ["dead-lettered", str(r.dead_letters), "0"],
            ],
        ),
        "",
        "Every job takes a turn from one item in the jobs table (one every 60/rate s); a turn within 5 s is slept "
        "inside the invocation, a later one waits on a delayed message, and a job that still meets a 429 queues "
        "up again behind the turns already given out. The 429s left come from records that reach their turn late "
        "(behind another record of the same batch), so two POSTs land closer than the interval.",
        "",
    ]


def measure(bench: Run) -> PacingResult:
    uploads = 20 if bench.quick else UPLOADS
    bench.log(f"pacing: {uploads} uploads against a GMI limited to {RATE_PER_MINUTE}/min (simulated clock)")
    return run(uploads=uploads)


def rows(bench: Run) -> list[Row]:
    r = bench.result("pacing", PacingResult)
    if r is None:
        return []
    return [
        Row(
            f"{r.uploads} uploads at once: lost / duplicates",
            f"{r.lost} / {r.duplicates}",
            target="0 / 0",
            met=mark(r.lost == 0 and r.duplicates == 0),
        ),
        Row("POSTs answered 429", f"{r.share_429:.2%}", target="<= 1 %", met=mark(r.share_429 <= 0.01)),
        Row("time vs ideal uploads/rate", f"{r.over_ideal:+.1%}", target="<= +10 %", met=mark(r.over_ideal <= 0.10)),
    ]


def section(bench: Run) -> list[str]:
    r = bench.result("pacing", PacingResult)
    return _section_lines(r) if r is not None else []


BENCHMARK = Benchmark("pacing", "pacing", "Pacing submissions to GMI's rate limit", measure, rows, section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pacing", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 uploads instead of 1000")
    args = parser.parse_args(argv)
    result = run(uploads=100 if args.quick else UPLOADS)
    print("\n".join(_section_lines(result)))
    print(json.dumps(result.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
