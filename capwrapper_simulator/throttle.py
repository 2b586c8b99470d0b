"""429 answers, with ``Retry-After`` as seconds, as an HTTP date, or left out."""

from __future__ import annotations

import math
import time
from email.utils import formatdate

from capwrapper_simulator.replies import Reply, error_reply


def retry_after_header(seconds: float, style: str) -> dict[str, str]:
    """``{"Retry-After": "7"}``, an HTTP date that far ahead (wall clock), or nothing."""
    whole = max(0, round(seconds))
    if style == "none":
        return {}
    if style == "http-date":
        return {"Retry-After": formatdate(math.ceil(time.time()) + whole, usegmt=True)}
    return {"Retry-After": str(whole)}


def too_many_requests(message: str, seconds: float, style: str) -> Reply:
    return error_reply(429, "rate_limited", message, retry_after_header(seconds, style))
