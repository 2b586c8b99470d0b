"""Exit 0 when PyPI's per-release JSON API answers, 1 (reason on stderr) when it does not.

`make audit` runs pip-audit against that API (`--vulnerability-service pypi`). Where it cannot
be reached (no network, or a proxy that only serves package files) the audit is reported as
skipped instead of passing with every package silently unchecked.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

# Any published release works: this is the endpoint shape pip-audit queries per dependency.
URL = "https://pypi.org/pypi/pip/24.0/json"


def main() -> int:
    try:
        with urllib.request.urlopen(URL, timeout=15) as response:
            response.read(1)
    except urllib.error.HTTPError as exc:
        print(f"{URL} answered HTTP {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        print(f"{URL} unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
