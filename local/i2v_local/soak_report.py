"""The soak's report: what ran, what fired, and each invariant with its verdict (i2v_local.soak builds it)."""

from __future__ import annotations

import resource
import sys
from collections import Counter
from dataclasses import dataclass, field

from i2v_local.soak_checks import LookCount, WatchLedger
from i2v_local.soak_plan import SoakConfig


@dataclass
class Invariant:
    name: str
    ok: bool
    detail: str


def aws_invariants(
    table: list[tuple[str, int, int]], asked: int, gmi_jobs: int, executions: int, ledger: WatchLedger
) -> list[Invariant]:
    """The AWS faults all fired; every GMI job is watched by an execution; no chain of looks forked."""
    forks = ledger.forks()
    return [
        Invariant(
            "each AWS fault planned and fired",
            len(table) == asked and all(fired > 0 for _name, _planned, fired in table),
            ", ".join(f"{name} {fired}/{planned}" for name, planned, fired in table) or "none asked for",
        ),
        Invariant(
            "GMI jobs created == workflow executions",
            gmi_jobs == executions,
            f"{gmi_jobs} GMI jobs, {executions} executions",
        ),
        Invariant(
            "no forked chain of looks (at most one live chain per job)",
            not forks,
            f"{len(forks)} forked {[f'{job[:8]}:{chain}:{look}' for job, chain, look in forks[:5]]}",
        ),
    ]


def within_policy(counts: list[LookCount]) -> Invariant:
    over = sorted((c for c in counts if c.extra > 0), key=lambda c: -c.extra)
    most = max(counts, key=lambda c: (c.made, -c.policy), default=None)
    detail = f"{len(over)} jobs over it" + (
        f" {[f'{c.job_id[:8]}: {c.made} > {c.policy}' for c in over[:3]]}" if over else ""
    )
    if most is not None:
        detail += f"; most looks of one job: {most.made} (the policy alone: {most.policy})"
    return Invariant("no job looked at more often than the poll policy alone would", not over, detail)


MB = 1_000_000
# The soaks' memory bound (MemoryWatch), as growth of the peak RSS: the manifest soak grew 150, 182 and 267 MB at
# 60, 120 and 240 lines (the executions' threads, up to 2.5 per job at once, moto's stored objects, records,
# events and messages: about 0.6 MB a job); before moto_tracking, 250 and 530 MB at 60 and 120, 21 GB at 1,000.
FIXED_MB = 500
PER_JOB_MB = 1.0


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (ru_maxrss: kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


@dataclass(frozen=True)
class MemoryWatch:
    """Made when a soak starts, judged at its end: the growth of the process's peak RSS stays within a fixed
    allowance plus a little per job. The 1,000-line manifest soak once grew to 21 GB (moto kept a copy of the jobs
    table per transaction: i2v_local.stack.moto_tracking) and was OOM-killed instead of failing with a reason."""

    start: int = field(default_factory=peak_rss_bytes)

    @staticmethod
    def limit(jobs: int) -> int:
        return int((FIXED_MB + PER_JOB_MB * jobs) * MB)

    def invariant(self, jobs: int) -> Invariant:
        peak = peak_rss_bytes()
        growth, limit = peak - self.start, self.limit(jobs)
        return Invariant(
            "memory bounded (growth of the peak RSS during the run)",
            growth <= limit,
            f"peak RSS {peak / MB:.0f} MB, grew {growth / MB:.0f} MB; bound {limit / MB:.0f} MB "
            f"({FIXED_MB} MB + {PER_JOB_MB:g} MB x {jobs} jobs)",
        )


@dataclass
class SoakReport:
    config: SoakConfig
    seconds: float
    statuses: Counter[str]
    categories: Counter[str]
    faults_planned: Counter[str]
    faults_fired: Counter[str]
    fault_plan: dict[str, str]  # upload key -> the fault it was given
    duplicates_sent: int
    bad_images: int
    posts: int
    executions: int
    truncations_healed: int
    invariants: list[Invariant]
    aws_faults: list[tuple[str, int, int]] = field(default_factory=list)  # (fault, planned, fired)
    forks: int = 0
    most_looks: LookCount | None = None  # the job with the most status GETs
    simulated_seconds: float = 0.0  # how far the clocks were moved to let every reconcile happen

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.invariants)

    def table(self) -> str:
        n = self.config.uploads
        lines = [
            f"chaos soak: {n} uploads, seed {self.config.seed}, {self.seconds:.0f} s "
            f"(+{self.simulated_seconds:.0f} s simulated for the reconciles)",
            "",
            f"{'status':<20}{'jobs':>8}{'share':>9}",
        ]
        for status, count in sorted(self.statuses.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"{status:<20}{count:>8}{count / n:>9.1%}")
        lines.append(f"{'total':<20}{sum(self.statuses.values()):>8}")
        lines += ["", f"{'failure category':<28}{'jobs':>8}"]
        lines += [f"{name:<28}{count:>8}" for name, count in sorted(self.categories.items())]
        lines += ["", f"{'GMI fault':<40}{'planned':>8}{'fired':>8}"]
        lines += [
            f"{name:<40}{self.faults_planned[name]:>8}{self.faults_fired[name]:>8}"
            for name in sorted(set(self.faults_planned) | set(self.faults_fired))
        ]
        lines += ["", f"{'AWS fault':<40}{'planned':>8}{'fired':>8}"]
        lines += [f"{name:<40}{planned:>8}{fired:>8}" for name, planned, fired in self.aws_faults]
        looks = self.most_looks
        lines += [
            "",
            f"{'duplicate S3 notifications re-sent':<40}{self.duplicates_sent:>8}",
            f"{'bad images uploaded':<40}{self.bad_images:>8}",
            f"{'truncated downloads healed by retry':<40}{self.truncations_healed:>8}",
            f"{'GMI jobs created (paid POSTs)':<40}{self.posts:>8}",
            f"{'workflow executions':<40}{self.executions:>8}",
            f"{'forked chains of looks':<40}{self.forks:>8}",
            f"{'most looks of one job (policy alone)':<40}{looks.made if looks else 0:>8}"
            f"{f' ({looks.policy})' if looks else '':>8}",
            "",
        ]
        lines += [f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}" for check in self.invariants]
        return "\n".join(lines)
