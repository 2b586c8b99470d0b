"""Fault injection: rules that make the next matching requests misbehave."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus

from capwrapper_simulator.config import SimConfig
from capwrapper_simulator.replies import Reply, error_reply, html_reply, non_json_reply
from capwrapper_simulator.state import SimState
from capwrapper_simulator.throttle import too_many_requests
from capwrapper_simulator.validation import InvalidRequest, validate_build_request

ENDPOINTS = ("create_build", "get_build", "list_builds", "create_deploy", "download")
ANY_ENDPOINT = "*"
FAULT_KINDS = (
    "http_error",  # `status` (default 500) with a JSON error body; the action is not performed
    "html_error",  # `status` (default 502) with an HTML body, as a proxy sends it
    "slow",  # wait `seconds` before answering normally
    "drop_before_action",  # close the connection without doing anything or answering
    "drop_after_action",  # do the action (e.g. create the build), then close without answering
    "non_json",  # 200 with a non-JSON body; the action is not performed
    "rate_limited",  # 429, Retry-After as `retry_after` says, `seconds` long
    "truncate",  # answer normally but send only half the body, then close
    # create_build only: another client first creates a build of the same bundle id, platform
    # and version (the request's fields, overridden by `body` as a JSON object), so the
    # request is then refused with 400 "version must be higher", as in a race between runs.
    "version_taken",
)
_DEFAULT_STATUS = {"http_error": 500, "html_error": 502}
# Kinds answered by the fault itself, without reaching the API.
ANSWERING_KINDS = ("http_error", "html_error", "non_json", "rate_limited")
_ERROR_CODES = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_MIN_ERROR_STATUS = 400
_MAX_STATUS = 599


@dataclass
class Fault:
    """One rule. It lets the first ``after`` matching requests through, then fires ``times``
    times (``None``: forever). ``seen`` and ``fired`` count what happened."""

    endpoint: str
    kind: str
    times: int | None = 1
    after: int = 0
    status: int | None = None
    seconds: float = 1.0
    retry_after: str = "seconds"
    body: str | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.endpoint != ANY_ENDPOINT and self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}; use one of {ENDPOINTS}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if self.retry_after not in ("seconds", "http-date", "none"):
            raise ValueError("retry_after must be 'seconds', 'http-date' or 'none'")
        if (self.times is not None and self.times < 0) or self.after < 0 or self.seconds < 0:
            raise ValueError("times, after and seconds must not be negative")
        if self.status is None:
            self.status = _DEFAULT_STATUS.get(self.kind)
        elif not _MIN_ERROR_STATUS <= self.status <= _MAX_STATUS:
            raise ValueError("status must be an HTTP error status (400-599)")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def _matches(self, endpoint: str) -> bool:
        return self.endpoint in (ANY_ENDPOINT, endpoint) and not self.exhausted


@dataclass(frozen=True)
class FiredFault:
    """What a request got: a snapshot of the rule that fired."""

    kind: str
    status: int | None
    seconds: float
    retry_after: str
    body: str | None


class FaultSet:
    """Thread-safe list of rules; the first matching rule that is due fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[Fault]:
        """Rules that may still fire."""
        with self._lock:
            return [rule for rule in self._rules if not rule.exhausted]

    def take(self, endpoint: str) -> FiredFault | None:
        """Count this request against every matching rule and fire the first one that is due."""
        with self._lock:
            chosen: Fault | None = None
            for rule in self._rules:
                if not rule._matches(endpoint):
                    continue
                rule.seen += 1
                if chosen is None and rule.seen > rule.after:
                    chosen = rule
            if chosen is None:
                return None
            chosen.fired += 1
            return FiredFault(
                chosen.kind, chosen.status, chosen.seconds, chosen.retry_after, chosen.body
            )


def fault_reply(fault: FiredFault) -> Reply:
    """The answer of a fault of one of the ``ANSWERING_KINDS``."""
    status = fault.status or 500
    phrase = _phrase(status)
    if fault.kind == "html_error":
        return html_reply(status, phrase)
    if fault.kind == "non_json":
        return non_json_reply(fault.body)
    if fault.kind == "rate_limited":
        message = "Rate limit exceeded for this API key."
        return too_many_requests(message, fault.seconds, fault.retry_after)
    code = _ERROR_CODES.get(status, phrase.lower().replace(" ", "_"))
    return error_reply(status, code, f"{phrase} (injected fault).")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def take_version(request_body: bytes, overrides: str | None, state: SimState, config: SimConfig,
                 now: float) -> None:
    """``version_taken``: another client creates the build the request asks for, first. A body
    that is not a valid create is left to the endpoint to refuse."""
    try:
        fields = json.loads(request_body or b"{}")
        extra = json.loads(overrides) if overrides else {}
    except ValueError:
        return
    if not isinstance(fields, dict) or not isinstance(extra, dict):
        return
    fields.update(extra)
    try:
        validate_build_request(fields)
        state.add_build(fields, config.plan_for(str(fields["platform"])), now,
                        fingerprint="another-client")
    except InvalidRequest:
        return
