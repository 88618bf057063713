"""`make mutants`: put each named bug into a copy of the code, run the tests that guard it, and fail if any
bug survives (its tests still pass).

Each mutant breaks one README guarantee the way a plausible change would (tests/scenarios/README.md lists
them next to the guarantees). Mutation libraries (mutmut, cosmic-ray) generate thousands of operator
mutants (`<` to `<=`); these are a few named, semantic bugs, so they are hand-written text edits: one entry
of MUTANTS each. An edit whose text no longer occurs exactly once fails loudly ("stale"): update the entry
together with the code it mutates.

    python tools/mutants.py                 # every mutant (about 2-3 minutes each on 2 cores)
    python tools/mutants.py --only cap-not-atomic --only publisher-silent
    python tools/mutants.py --list
    python tools/mutants.py --jobs 3        # three copies at once

First the guarding tests run on an unmutated copy (they must pass there, or a "kill" would mean nothing),
then each mutant in its own copy. The report lists, per mutant, the tests that failed and the time taken.
"""

from __future__ import annotations

import argparse
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "node_modules", "cdk.out", ".build", "out", "__pycache__", "*_cache", ".pytest_cache"
)


@dataclass(frozen=True)
class Mutant:
    name: str
    guarantee: str  # the README Guarantees promise it breaks
    path: str  # the file to edit, relative to the repository root
    find: str  # exact text, present exactly once
    replace: str
    tests: tuple[str, ...]  # pytest paths / node ids that must fail with the mutant in place


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        name="claim-without-condition",
        guarantee="At most one paid submission per object version (the claim is a conditional write)",
        path="functions/i2v/adapters/repository.py",
        find='"ConditionExpression": "attribute_not_exists(pk)",',
        replace="",
        tests=(
            "tests/scenarios/test_s01_duplicate_and_superseded_events.py",
            "tests/workflow/test_workflow.py::test_duplicate_s3_event_posts_once",
            "tests/workflow/test_workflow.py::test_redelivered_sqs_message_posts_once",
        ),
    ),
    Mutant(
        name="post-5xx-retried",
        guarantee="When GMI's answer is unknown, we stop and tell you (a 5xx after a POST is ambiguous)",
        path="functions/i2v/adapters/gmi.py",
        find="        if status >= 300:\n            unclear = GmiAmbiguousError if posting else GmiRetryableError\n",
        replace="        if status >= 300:\n            unclear = GmiRetryableError\n",
        tests=(
            "tests/unit/test_gmi_client.py",
            "tests/scenarios/test_s09_gmi_refusals_and_errors.py::test_s11_post_errors_that_may_have_created_a_job_are_ambiguous",
            "tests/soak/test_soak.py::test_chaos_soak_keeps_every_job_accounted_for",
        ),
    ),
    Mutant(
        name="cap-not-atomic",
        guarantee="Nothing is spent on bad input (the daily submission cap is checked atomically)",
        path="functions/i2v/adapters/repository.py",
        find='        """Atomically take one submission from the day\'s allowance; False when it is used up."""\n',
        replace=(
            '        """Atomically take one submission from the day\'s allowance; False when it is used up."""\n'
            '        key = {"pk": {"S": f"BUDGET#{day}"}, "sk": {"S": "COUNT"}}\n'
            '        item = self._db.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")\n'
            '        taken = int(item["submissions"]["N"]) if item else 0\n'
            "        if taken >= cap:\n"
            "            return False\n"
            '        counted = {**key, "submissions": {"N": str(taken + 1)}, "expires_at": {"N": str(expires_at)}}\n'
            "        self._db.put_item(TableName=self.table_name, Item=counted)\n"
            "        return True\n"
        ),
        tests=("tests/scenarios/test_s24_daily_cap_race.py", "tests/scenarios/test_s24_daily_cap.py"),
    ),
    Mutant(
        name="spend-not-atomic",
        guarantee="Nothing is spent on bad input (daily dollar budgets, each checked atomically)",
        path="functions/i2v/adapters/repository.py",
        find=(
            "        conditions = []\n"
            "        for i, limit in enumerate(limits.values()):\n"
            '            values[f":l{i}"] = float(limit)\n'
            '            conditions.append(f"(attribute_not_exists(#b{i}) OR #b{i} < :l{i})")\n'
        ),
        replace=(
            "        conditions = []\n"
            "        current = self.spent(day)  # read, then write: racing submits all see room\n"
            "        if any(current.get(name, Decimal(0)) >= limit for name, limit in limits.items()):\n"
            "            return None\n"
            "        for i, limit in enumerate(limits.values()):\n"
            '            values[f":l{i}"] = float(limit)\n'
            '            conditions.append(f"(attribute_not_exists(#b{i}) OR :l{i} = :l{i})")\n'
        ),
        tests=(
            "tests/scenarios/test_s28_dollar_budgets.py::"
            "test_s28_twelve_concurrent_submits_never_spend_more_than_the_budget_plus_one_price",
        ),
    ),
    Mutant(
        name="leak-guard-narrowed",
        guarantee="Secrets stay secret (the test suite scans logs, records, events and executions)",
        path="tests/support/leak_guard.py",
        find='                self.add("dynamodb item", item)\n',
        replace='                self.add("dynamodb item", item)\n        return  # the jobs table only\n',
        tests=("tests/scenarios/test_s25_leak_guard.py",),
    ),
    Mutant(
        name="publisher-silent",
        guarantee="No job is lost / events are delivered at least once (a refused event is never dropped)",
        path="functions/i2v/adapters/publisher.py",
        find="        raise TransientError(\n",
        replace="        return  # gave up quietly\n        raise TransientError(\n",
        tests=tuple(
            f"tests/scenarios/test_s18_s22_completion.py::test_s22_{name}"
            for name in (
                "put_events_partial_failure_is_retried_by_the_publisher",
                "put_events_refused_for_a_whole_attempt_is_retried_by_the_state_machine",
                "failed_event_refused_for_a_whole_attempt_is_retried_by_the_state_machine",
                "put_events_that_never_recovers_fails_the_execution_loudly",
            )
        ),
    ),
    Mutant(
        name="reconcile-never-finds",
        guarantee="When GMI's answer is unknown, we stop and tell you (an ambiguous job GMI has is reconciled)",
        path="functions/i2v/services/reconcile.py",
        find="found = self._find(job, ambiguous_at)",
        replace="found = None",
        tests=("tests/scenarios/test_answers_reconciliation.py",),
    ),
    Mutant(
        name="outage-not-ridden",
        guarantee="No job is lost (a GMI outage parks jobs on fresh delayed messages, never the DLQ)",
        path="functions/i2v/services/submission.py",
        find="                    return Park(job, str(refused))\n",
        replace=(
            "                    from i2v.domain.jobs import TransientError\n"
            "                    raise TransientError(str(refused))  # back to the queue: receive counts run out\n"
        ),
        tests=("tests/scenarios/test_s26_gmi_outage.py",),
    ),
    Mutant(
        name="concurrency-cap-dropped",
        guarantee="submit_concurrency caps concurrent submissions (the event source's MaximumConcurrency)",
        path="infrastructure/i2v_infra/constructs/ingestion.py",
        find="max_concurrency=config.submit_concurrency,",
        replace="",
        tests=(
            "tests/scenarios/test_s09_gmi_refusals_and_errors.py::test_s09_burst_with_429s_runs_submissions_in_parallel_up_to_the_concurrency_cap",
        ),
    ),
)


@dataclass
class Outcome:
    mutant: str
    killed: bool
    failed_tests: list[str]
    seconds: float
    note: str = ""


def _copy_repository(into: Path) -> Path:
    copy = into / "repo"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE, symlinks=True)
    (copy / ".build").mkdir()
    deps = ROOT / ".build" / "lambda-deps"
    if deps.exists():
        (copy / ".build" / "lambda-deps").symlink_to(deps)  # read-only at synth; downloaded once
    return copy


def _apply(copy: Path, mutant: Mutant) -> None:
    target = copy / mutant.path
    text = target.read_text(encoding="utf-8")
    found = text.count(mutant.find)
    if found != 1:
        raise SystemExit(f"mutant {mutant.name} is stale: its text occurs {found} times in {mutant.path}")
    target.write_text(text.replace(mutant.find, mutant.replace), encoding="utf-8")
    if target.suffix == ".py":
        py_compile.compile(str(target), doraise=True)  # a syntax error would "kill" it for nothing


def _pytest(copy: Path, tests: tuple[str, ...]) -> tuple[int, list[str], str]:
    """Runs the tests in the copy (its code first on the path); returns pytest's exit code and the failures."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(copy / part) for part in ("functions", "infrastructure", "cli", "local")),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *tests]
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    # The short summary (-rfE): "FAILED tests/...::test_x - AssertionError ..." / "ERROR tests/...".
    failed = [
        line.split(" ", 1)[1].split(" - ", 1)[0]
        for line in done.stdout.splitlines()
        if line.startswith(("FAILED tests/", "ERROR tests/"))  # not captured log lines ("ERROR    i2v...")
    ]
    if done.returncode not in (0, 1):
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
    return done.returncode, failed, done.stdout


def _check_imports_from(copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(copy / "functions")}
    where = subprocess.run(  # noqa: S603
        [str(PYTHON), "-c", "import i2v; print(i2v.__file__)"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    if not where.startswith(str(copy)):
        raise SystemExit(f"the copy's code is not the one imported ({where}): mutants would test the original")


def _try(scratch: Path, mutant: Mutant) -> Outcome:
    started = time.monotonic()
    copy = _copy_repository(scratch / mutant.name)
    _apply(copy, mutant)
    code, failed, _ = _pytest(copy, mutant.tests)
    note = "" if code in (0, 1) else f"pytest exit {code}: not a test failure"
    outcome = Outcome(mutant.name, code == 1 and bool(failed), failed, time.monotonic() - started, note)
    print(_line(outcome), flush=True)
    shutil.rmtree(copy, ignore_errors=True)
    return outcome


def run(mutants: list[Mutant], jobs: int = 1) -> list[Outcome]:
    """The baseline and the mutants, `jobs` at a time (each in its own copy and pytest process)."""
    with tempfile.TemporaryDirectory(prefix="i2v-mutants-") as scratch_dir:
        scratch = Path(scratch_dir)
        clean = _copy_repository(scratch / "clean")
        _check_imports_from(clean)
        every_test = tuple(dict.fromkeys(test for mutant in mutants for test in mutant.tests))
        started = time.monotonic()
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            baseline = pool.submit(_pytest, clean, every_test)
            if jobs <= 1:
                baseline.result()  # one at a time: learn that the baseline fails before paying for the mutants
            tries = [pool.submit(_try, scratch, mutant) for mutant in mutants]
            code, failed, output = baseline.result()
            print(
                f"baseline (no mutant): {len(every_test)} test targets, exit {code}, {time.monotonic() - started:.0f} s"
            )
            if code != 0:
                print(output[-6000:], file=sys.stderr)
                for pending in tries:
                    pending.cancel()
                raise SystemExit(f"the guarding tests fail without any mutant: {failed}")
            return [attempt.result() for attempt in tries]


def _line(outcome: Outcome) -> str:
    verdict = "killed" if outcome.killed else "SURVIVED"
    detail = "; ".join(outcome.failed_tests) or outcome.note or "every guarding test passed"
    return f"{outcome.mutant:<26}{verdict:<10}{outcome.seconds:>6.0f} s  {detail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/mutants.py", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run only this mutant (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants and what they guard")
    parser.add_argument("--jobs", type=int, default=1, help="copies tested at once (the baseline included)")
    args = parser.parse_args(argv)
    unknown = set(args.only) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutants: {sorted(unknown)}")
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name}: {mutant.guarantee}\n  {mutant.path}\n  tests: {', '.join(mutant.tests)}")
        return 0
    outcomes = run(chosen, args.jobs)
    survivors = [o.mutant for o in outcomes if not o.killed]
    print(
        f"\n{len(outcomes) - len(survivors)} of {len(outcomes)} mutants killed"
        + (f"; SURVIVED: {survivors}" if survivors else "")
    )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
