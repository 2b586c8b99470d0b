"""Run the simulator in the foreground: ``python -m capwrapper_simulator --port 8080``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from capwrapper_simulator.config import (
    LIST_SHAPES,
    PLATFORMS,
    RETRY_AFTER_STYLES,
    TIMESTAMP_STYLES,
    PlatformConfig,
    SimConfig,
)
from capwrapper_simulator.faults import ENDPOINTS, FAULT_KINDS, Fault
from capwrapper_simulator.server import Simulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capwrapper-action simulator",
        description="A local Capwrapper API for demos and tests (state lives in memory).",
    )
    _server_options(parser)
    _behaviour_options(parser)
    _scenario_options(parser)
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=8080, help="port to bind, 0 for any free one (default 8080)")
    add(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help="a valid API key; repeat for more (default: sim-key)",
    )
    add("-v", "--verbose", action="store_true", help="log every request to stderr")


def _behaviour_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--queue-seconds", type=float, default=2.0, help="time a build stays queued (default 2)")
    add("--build-seconds", type=float, default=10.0, help="time a build runs (default 10)")
    add(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="N/SECONDS",
        help="at most N requests per SECONDS per API key, e.g. 60/60",
    )
    add(
        "--retry-after",
        choices=RETRY_AFTER_STYLES,
        default="seconds",
        help="how 429 answers carry Retry-After (default seconds)",
    )
    add(
        "--list-shape",
        choices=LIST_SHAPES,
        default="data",
        help="shape of GET /builds pages (default data)",
    )
    add(
        "--create-status",
        type=int,
        choices=(200, 201),
        default=201,
        help="status of successful creates (default 201)",
    )
    add("--deploy-status", default="queued", help="status of new deploys (default queued)")
    add("--artifact-size", type=int, default=64 * 1024, help="bytes of each binary")
    add("--timestamp-style", choices=TIMESTAMP_STYLES, default="millis-z")
    add("--idempotency", action="store_true", help="honour Idempotency-Key headers")


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--fail",
        action="append",
        choices=PLATFORMS,
        default=[],
        metavar="PLATFORM",
        help="make builds of this platform fail (android or ios); repeatable",
    )
    add("--fail-message", default=None, help="the error text of failed builds")
    add(
        "--seed",
        type=_seed,
        action="append",
        default=[],
        metavar="PLATFORM:BUNDLE_ID:VERSION",
        help="add a past successful build; repeatable",
    )
    add(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="ENDPOINT:KIND[:TIMES]",
        help=f"inject a fault; endpoints {', '.join(ENDPOINTS)}, *; kinds {', '.join(FAULT_KINDS)}",
    )


def config_from(args: argparse.Namespace) -> SimConfig:
    failing = PlatformConfig(outcome="failed", failure_message=args.fail_message)
    return SimConfig(
        host=args.host,
        port=args.port,
        api_keys=frozenset(args.keys or ["sim-key"]),
        queue_seconds=args.queue_seconds,
        build_seconds=args.build_seconds,
        platforms=dict.fromkeys(args.fail, failing),
        rate_limit=args.rate_limit,
        retry_after=args.retry_after,
        list_shape=args.list_shape,
        create_status=args.create_status,
        deploy_status=args.deploy_status,
        artifact_size=args.artifact_size,
        timestamp_style=args.timestamp_style,
        honour_idempotency_key=args.idempotency,
        verbose=args.verbose,
    )


def _rate_limit(text: str) -> tuple[int, float]:
    count, _, window = text.partition("/")
    try:
        return int(count), float(window or "60")
    except ValueError:
        raise argparse.ArgumentTypeError(f"use N/SECONDS such as 60/60, not {text!r}") from None


def _seed(text: str) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in PLATFORMS:  # noqa: PLR2004 - three parts
        raise argparse.ArgumentTypeError(f"use PLATFORM:BUNDLE_ID:VERSION, not {text!r}")
    return parts[0], parts[1], parts[2]


def _fault(text: str) -> Fault:
    endpoint, _, rest = text.partition(":")
    kind, _, times = rest.partition(":")
    try:
        return Fault(endpoint=endpoint, kind=kind, times=int(times) if times else 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def _prepare(args: argparse.Namespace, sim: Simulator) -> None:
    for platform, bundle_id, version in args.seed:
        sim.seed_build(platform=platform, bundle_id=bundle_id, version=version)
    for fault in args.fault:
        sim.faults.add(fault)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; 0 on a clean stop, 2 on bad settings."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        sim = Simulator(config_from(args))
        _prepare(args, sim)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        sim.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"Capwrapper simulator: {sim.base_url}", flush=True)
    print(f"API key: {sim.api_key}", flush=True)
    print("Stop with Ctrl-C.", flush=True)
    try:
        _wait_for_signal()
    finally:
        sim.stop()
    print("Simulator stopped.", flush=True)
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        stop.wait()  # pragma: no cover - signals only reach the main thread
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
