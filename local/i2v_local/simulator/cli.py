"""`python -m i2v_local.simulator` / `i2v simulate`: run the simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .contract import DEFAULT_MODEL
from .faults import ALIASES, FAULTS, FaultPlan, FaultSpecError, parse_specs
from .models import KNOWN_PRICES
from .server import GmiSimulator, SimulatorConfig
from .timing import Delay, Timing


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v simulate",
        description="Local simulator of the GMI request-queue API.",
        epilog="faults (details: --list-faults): " + ", ".join(sorted(FAULTS)),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument(
        "--port", type=int, default=8089, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    p.add_argument("--no-tls", action="store_true", help="plain http instead of https with a throwaway CA")
    p.add_argument("--ca-out", help="also copy the CA certificate to this path")
    p.add_argument("--api-key", default="sim-key", help="the Bearer key it accepts (default: %(default)s)")
    p.add_argument("--model", action="append", default=[], help="extra accepted model id (repeatable)")
    p.add_argument("--org-id", default="pixverse", help="org_id in its answers (default: %(default)s)")
    p.add_argument("--strict-required", action="store_true", help="require duration/aspect_ratio/quality")
    p.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="MODEL=PRICE:PRICING_TYPE:UNIT",
        help="price_info served for MODEL, e.g. 'wan2.6-i2v=45:per_video:usd_cents' (repeatable); 'MODEL=' serves none",
    )
    t = p.add_argument_group("timing")
    t.add_argument("--queued-seconds", type=float, default=1.0, help="time a job spends queued (default: %(default)s)")
    t.add_argument(
        "--processing-seconds", type=float, default=4.0, help="time a job spends processing (default: %(default)s)"
    )
    t.add_argument("--processing-median", type=float, help="lognormal processing time (overrides fixed)")
    t.add_argument(
        "--processing-sigma",
        type=float,
        default=0.5,
        help="spread of the lognormal processing time (default: %(default)s)",
    )
    t.add_argument(
        "--processing-min", type=float, default=0.0, help="shortest lognormal processing time (default: %(default)s)"
    )
    t.add_argument(
        "--processing-max", type=float, default=float("inf"), help="longest lognormal processing time (default: none)"
    )
    t.add_argument(
        "--api-latency-seconds", type=float, default=0.0, help="delay before every answer (default: %(default)s)"
    )
    t.add_argument("--time-scale", type=float, default=1.0, help="multiplies every job delay")
    t.add_argument("--seed", type=int, help="RNG seed for timing")
    f = p.add_argument_group("faults")
    f.add_argument(
        "--fault", action="extend", nargs="+", default=[], help="fault spec, e.g. 'post_429 retry_after=2 count=3'"
    )
    f.add_argument("--fault-prob", action="append", default=[], help="random fault: 'SPEC=PROBABILITY'")
    f.add_argument("--fault-seed", type=int, help="RNG seed for random faults")
    f.add_argument("--list-faults", action="store_true", help="print fault names and exit")
    p.add_argument("--video-size-bytes", type=int, help="serve synthetic videos of this size")
    p.add_argument(
        "--max-hang-seconds",
        type=float,
        default=30.0,
        help="longest a hang fault holds a request (default: %(default)s)",
    )
    p.add_argument("--verbose", action="store_true", help="log every request")
    return p


def _timing(args: argparse.Namespace) -> Timing:
    processing = Delay.constant(args.processing_seconds)
    if args.processing_median is not None:
        processing = Delay.lognormal(
            args.processing_median, args.processing_sigma, args.processing_min, args.processing_max
        )
    return Timing(
        queued=Delay.constant(args.queued_seconds),
        processing=processing,
        api_latency=Delay.constant(args.api_latency_seconds),
        time_scale=args.time_scale,
        seed=args.seed,
    )


def _prices(specs: Sequence[str]) -> dict[str, dict[str, object]]:
    prices: dict[str, dict[str, object]] = dict(KNOWN_PRICES)
    for spec in specs:
        model, _, value = spec.partition("=")
        if not value:
            prices.pop(model, None)
            continue
        price, _, rest = value.partition(":")
        pricing_type, _, unit = rest.partition(":")
        if not (price.isdigit() and pricing_type and unit):
            raise SystemExit(f"--price {spec!r}: use MODEL=PRICE:PRICING_TYPE:UNIT, e.g. m=45:per_video:usd_cents")
        prices[model] = {"price": int(price), "pricing_type": pricing_type, "unit": unit}
    return prices


def build_simulator(argv: Sequence[str] | None = None) -> GmiSimulator:
    args = build_parser().parse_args(argv)
    plan = FaultPlan.from_env(seed=args.fault_seed)
    for text in args.fault:
        for spec in parse_specs(text):
            plan.add(spec)
    for item in args.fault_prob:
        spec_text, _, prob = item.rpartition("=")
        plan.set_probability(spec_text, float(prob))
    config = SimulatorConfig(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        tls=not args.no_tls,
        timing=_timing(args),
        models=(DEFAULT_MODEL, *args.model),
        org_id=args.org_id,
        prices=_prices(args.price),
        strict_required=args.strict_required,
        video_size_bytes=args.video_size_bytes,
        max_hang_seconds=args.max_hang_seconds,
        verbose=args.verbose,
    )
    return GmiSimulator(config=config, faults=plan)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_faults:
        for name, (kind, text) in sorted(FAULTS.items()):
            print(f"{name:28} [{kind}] {text}")
        print("aliases: " + ", ".join(f"{a}->{n}" for a, (n, _) in sorted(ALIASES.items())))
        return 0
    try:
        sim = build_simulator(argv)
    except (FaultSpecError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    with sim:
        print(f"GMI simulator listening on {sim.base_url}", flush=True)
        print(f"GMI_BASE_URL={sim.base_url}", flush=True)
        if sim.ca_bundle_path:
            ca = sim.ca_bundle_path
            if args.ca_out:
                ca = shutil.copyfile(sim.ca_bundle_path, args.ca_out)
            print(f"REQUESTS_CA_BUNDLE={ca}", flush=True)
        print(f"API key: {sim.config.api_key}  (Ctrl-C to stop)", flush=True)
        print(f"faults ({len(FAULTS)}, `--list-faults` explains them): {', '.join(sorted(FAULTS))}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


def serve_forever(argv: Sequence[str] | None = None) -> int:
    """Entry point for `i2v simulate`."""
    return main(argv)
