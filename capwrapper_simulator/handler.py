"""HTTP plumbing: parse a request, let faults and the API answer it, put the answer on the wire
(or, when a fault says so, only half of it, or nothing at all)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capwrapper_simulator.api import UNKNOWN, Gate, Request, route
from capwrapper_simulator.clock import SimClock
from capwrapper_simulator.config import SimConfig
from capwrapper_simulator.faults import (
    ANSWERING_KINDS,
    FaultSet,
    FiredFault,
    fault_reply,
    take_version,
)
from capwrapper_simulator.replies import Reply, error_reply
from capwrapper_simulator.state import RequestRecord, SimState

_CHUNK = 16 * 1024
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass
class Backend:
    """What the request handlers share."""

    config: SimConfig
    state: SimState
    clock: SimClock
    faults: FaultSet
    gate: Gate
    stopping: threading.Event


class SimServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, SimHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut the kept-alive connections so their threads end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], _GONE):
            super().handle_error(request, client_address)


class SimHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CapwrapperSimulator/1.0"
    timeout = 60
    server: SimServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.backend.config.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        backend = self.server.backend
        request = self._read_request()
        fault = None
        if request.endpoint != UNKNOWN:
            fault = backend.faults.take(request.endpoint)
        kind = fault.kind if fault else None
        if fault is not None and kind == "slow":
            backend.stopping.wait(fault.seconds)
        if fault is not None and kind == "version_taken" and request.endpoint == "create_build":
            take_version(request.body, fault.body, backend.state, backend.config,
                         backend.clock.now())
        if kind == "drop_before_action":
            self._log(request, None, kind)
            self._drop()
            return
        reply = self._answer(request, fault)
        if kind == "drop_after_action":
            self._log(request, None, kind)
            self._drop()
            return
        # Log before answering: a client that got its answer must find the request logged.
        self._log(request, reply.status, kind)
        self._send(reply, truncate=kind == "truncate")

    def _answer(self, request: Request, fault: FiredFault | None) -> Reply:
        if fault is not None and fault.kind in ANSWERING_KINDS:
            return fault_reply(fault)
        try:
            return self.server.backend.gate.handle(request)
        except Exception:  # a simulator bug: answer 500 and say why on stderr
            traceback.print_exc()
            return error_reply(500, "internal_error", "The simulator failed on this request.")

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        length = self.headers.get("Content-Length", "0").strip()
        body = self.rfile.read(int(length)) if length.isdigit() else b""
        endpoint, param, allowed = route(self.command, parts.path)
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            endpoint=endpoint,
            param=param,
            allowed=allowed,
        )

    def _log(self, request: Request, status: int | None, fault: str | None) -> None:
        backend = self.server.backend
        query = urlsplit(self.path).query
        backend.state.log(
            RequestRecord(
                backend.clock.now(),
                request.method,
                request.path,
                query,
                request.endpoint,
                status,
                request.fingerprint,
                fault,
            )
        )

    def _drop(self) -> None:
        """Close the connection without a single byte of answer."""
        self.close_connection = True

    def _send(self, reply: Reply, *, truncate: bool) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            body = reply.body[: len(reply.body) // 2] if truncate else reply.body
            for start in range(0, len(body), _CHUNK):
                self.wfile.write(body[start : start + _CHUNK])
        except _GONE:
            self.close_connection = True
        if truncate:
            self.close_connection = True
