"""`duta health [--url URL]`: probe a running service's `/healthz`, for Docker's HEALTHCHECK.

Exit 0 when it answers 200 in time, 1 when it answers anything else or nothing, 2
when there is nothing to probe (no DUTA_HTTP_PORT and no --url). Prints one line.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

from bot.settings import Settings

TIMEOUT_S = 5.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `health` subcommand."""
    parser = sub.add_parser("health", help="probe the running service's /healthz")
    parser.add_argument(
        "--url", help="the health URL (default: http://127.0.0.1:$DUTA_HTTP_PORT/healthz)"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, metavar="SECONDS", help="give up after this"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Probe once and print the verdict."""
    url: str | None = args.url
    if url is None and settings.http_port is None:
        print(
            "duta health: no port configured: set DUTA_HTTP_PORT (as for `duta run`) or pass --url",
            file=sys.stderr,
        )
        return 2
    url = url or f"http://127.0.0.1:{settings.http_port}/healthz"
    healthy, line = probe(url, args.timeout)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def probe(url: str, timeout_s: float) -> tuple[bool, str]:
    """(healthy, one line saying why) for one GET of `url`."""
    # no proxy: the service is on this machine, and a proxy variable set for the
    # container's outbound traffic must not capture the probe
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            detail = _failing(exc.read())
        return False, f"unhealthy: {url} answered {exc.code}{detail}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"unreachable: {url}: {reason}"
    age = _document(body).get("last_cycle_age_s")
    since = f", last cycle {age:.0f} s ago" if isinstance(age, int | float) else ""
    return True, f"healthy: {url}{since}"


def _failing(body: bytes) -> str:
    """`: name (why), …` from a 503 document, or nothing."""
    failing = _document(body).get("failing")
    if not isinstance(failing, dict) or not failing:
        return ""
    return ": " + ", ".join(f"{name} ({why})" for name, why in failing.items())


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
