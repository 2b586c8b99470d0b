"""A local Capwrapper API (stdlib only) for tests, benchmarks and demos.

with Simulator(SimConfig(build_seconds=0.3), clock=ManualClock()) as sim:
    sim.faults.add(Fault(endpoint="create_build", kind="drop_after_action"))
    requests.post(f"{sim.base_url}/builds", ...)
"""

from capwrapper_simulator.cli import main
from capwrapper_simulator.clock import ManualClock, RealClock, SimClock
from capwrapper_simulator.config import BuildPlan, PlatformConfig, SimConfig
from capwrapper_simulator.faults import ENDPOINTS, FAULT_KINDS, Fault, FaultSet
from capwrapper_simulator.server import BuildSnapshot, Simulator
from capwrapper_simulator.state import (
    BuildRecord,
    DeployRecord,
    RequestRecord,
    key_fingerprint,
)
from capwrapper_simulator.validation import semver_key

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "BuildPlan",
    "BuildRecord",
    "BuildSnapshot",
    "DeployRecord",
    "Fault",
    "FaultSet",
    "ManualClock",
    "PlatformConfig",
    "RealClock",
    "RequestRecord",
    "SimClock",
    "SimConfig",
    "Simulator",
    "key_fingerprint",
    "main",
    "semver_key",
]
