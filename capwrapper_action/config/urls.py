"""Parsers of the URL inputs: ``api-url`` (where the action sends its requests) and ``app-url``
(the web app Capwrapper fetches). Errors as in ``values``: ``ConfigError`` with an example;
credentials in a URL are never quoted."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from capwrapper_action.config.values import invalid, show

MAX_URL = 2048

_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}\.?")


def _hide_credentials(value: str) -> str:
    return re.sub(r"//[^/?#]*@", "//***@", value)


def _split_url(name: str, value: str) -> SplitResult:
    shown = show(_hide_credentials(value))
    if not value:
        raise invalid(name, "is empty")
    if len(value) > MAX_URL:
        raise invalid(name, f"is {len(value):,} characters long; the limit is {MAX_URL:,}")
    if re.search(r"[\s\\]", value):
        raise invalid(name, f"{shown} contains white space or a backslash")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise invalid(name, f"{shown} is not a valid URL ({exc})") from None
    if "@" in parts.netloc:
        raise invalid(
            name,
            f"{shown} contains credentials; remove them "
            "(the API key goes in 'api-key', never in a URL)",
        )
    if not _valid_host(parts.hostname or ""):
        raise invalid(name, f"{shown} has no valid host name; write it as https://host/path")
    return parts


def _valid_host(host: str) -> bool:
    """A DNS name (international ones through IDNA) or an IP address."""
    if _ip(host) is not None:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_HOST.fullmatch(ascii_host))


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _ip(host)
    return host.lower() == "localhost" or (address is not None and address.is_loopback)


def api_url(value: str) -> str:
    """``https://``, or ``http://`` for a loopback host; no query, no fragment; trailing
    slashes removed."""
    parts = _split_url("api-url", value)
    shown = show(value)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _is_loopback(host):
        raise invalid(
            "api-url",
            f"{shown} uses http:// on a host that is not this machine; only "
            "https:// is accepted (http:// only for 127.0.0.1, ::1 or localhost)",
        )
    if parts.scheme not in ("http", "https"):
        raise invalid("api-url", f"{shown} must start with https://")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise invalid("api-url", f"{shown} has a query or fragment; give the base URL only")
    return value.rstrip("/")


def app_url(value: str) -> str:
    """A public ``https://`` URL: Capwrapper's servers fetch it at build time."""
    parts = _split_url("app-url", value)
    shown = show(value)
    if parts.scheme != "https":
        raise invalid("app-url", f"{shown} must start with https:// (Capwrapper needs HTTPS)")
    address = _ip(parts.hostname or "")
    if _is_loopback(parts.hostname or "") or (address is not None and address.is_private):
        raise invalid(
            "app-url",
            f"{shown} points at a private address; Capwrapper fetches the app "
            "from its own servers, so the URL must be public",
        )
    return value
