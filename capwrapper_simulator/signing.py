"""Signed download URLs and the fake binaries they serve."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from urllib.parse import urlencode

ARTIFACT_EXTENSIONS = {"android": "apk", "ios": "ipa"}
_ZIP_MAGIC = b"PK\x03\x04"


class UrlSigner:
    """HMAC signatures over ``<build id>.<ext>`` and an expiry time (epoch seconds)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def signature(self, filename: str, expires: int) -> str:
        message = f"{filename}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base: str, filename: str, now: float, ttl: float) -> str:
        """The signed URL of ``filename`` under ``base`` (``http://host:port/v1``)."""
        expires = math.floor(now + ttl)
        query = urlencode({"expires": expires, "signature": self.signature(filename, expires)})
        return f"{base}/artifacts/{filename}?{query}"

    def verify(self, filename: str, expires: str, signature: str, now: float) -> str | None:
        """None when the signature is good and not expired, else the reason it is refused."""
        if not expires.isdigit():
            return "The download link is malformed."
        expected = self.signature(filename, int(expires))
        if not hmac.compare_digest(expected, signature):
            return "The download link signature is invalid."
        if int(expires) < now:
            return "The download link has expired."
        return None


def artifact_bytes(build_id: str, size: int) -> bytes:
    """Deterministic content of a build's binary: a zip magic, then bytes derived from the id."""
    block = hashlib.sha256(build_id.encode()).digest()
    body = _ZIP_MAGIC + block * (size // len(block) + 1)
    return body[:size]
