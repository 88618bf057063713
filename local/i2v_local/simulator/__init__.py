"""A local HTTP(S) simulator of the GMI Cloud request-queue API (pixverse-v5.5-i2v).

    from i2v_local.simulator import GmiSimulator, Timing

    with GmiSimulator(timing=Timing.zero()) as sim:
        requests.post(sim.requests_url, json=..., headers={"Authorization": "Bearer sim-key"},
                      verify=sim.ca_bundle_path)

See `faults` for the fault names, prompt markers and the X-Sim-Fault header.
"""

from .cli import main, serve_forever
from .contract import API_PREFIX, DEFAULT_MODEL, ContractError, validate_request
from .faults import ALIASES, FAULTS, FaultPlan, FaultSpec, FaultSpecError, Kind, parse_spec, parse_specs
from .jobs import Job
from .server import FAULT_HEADER, GmiSimulator, LogEntry, SimulatorConfig
from .timing import Delay, Timing
from .video import FRAME_SIZES

__all__ = [
    "ALIASES",
    "API_PREFIX",
    "DEFAULT_MODEL",
    "FAULTS",
    "FAULT_HEADER",
    "FRAME_SIZES",
    "ContractError",
    "Delay",
    "FaultPlan",
    "FaultSpec",
    "FaultSpecError",
    "GmiSimulator",
    "Job",
    "Kind",
    "LogEntry",
    "SimulatorConfig",
    "Timing",
    "main",
    "parse_spec",
    "parse_specs",
    "serve_forever",
    "validate_request",
]
