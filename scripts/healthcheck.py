"""Container health checks: exit 0 when healthy, 1 otherwise, one line per check on stdout.

    python scripts/healthcheck.py            # web: GET /healthz must answer 200 "ok"
    python scripts/healthcheck.py worker     # this container's Celery worker
    python scripts/healthcheck.py beat       # this container's Celery beat

web sends the first ALLOWED_HOSTS name as Host (Django rejects unknown hosts with 400) and
X-Forwarded-Proto: https, as the TLS-terminating proxy in front would; standard library only.

worker and beat have no HTTP server, so the readiness checks of /readyz (core/health.py) run here,
in-process: the database answers and every migration is applied, and the broker can be reached.
Then the process itself must answer a remote-control ping (`celery inspect ping`) within
--timeout seconds:
- worker: its own node, `celery@<hostname>` unless --node says otherwise (`-n` of the worker);
- beat: `celerybeat@<hostname>`, which beat answers (with --enable-remote-control) only while its
  scheduler is ticking: once it has not ticked for a minute (beat_remote_control_max_tick_age,
  at least twice django-celery-beat's five-second loop) it falls silent. That is beat's heartbeat.
Output names each check and its state (and an exception's type, never its text: it could hold a
broker URL with its password).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 5.0


def web() -> int:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h and h != "*"), "localhost")
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (fixed http URL)
            ok = response.status == 200 and response.read().strip() == b"ok"
    except OSError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
    import django

    django.setup()


def default_node(mode: str, hostname: str | None = None) -> str:
    """The node name the worker or beat of this container answers on by default."""
    hostname = hostname or socket.gethostname()
    return f"{'celery' if mode == 'worker' else 'celerybeat'}@{hostname}"


def broker_check(app, timeout: float) -> str:
    """A connection to the broker, opened within `timeout` seconds, once."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:  # kombu, redis and socket errors alike: the broker is unreachable
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def ping_check(app, node: str, timeout: float) -> str:
    """`celery inspect ping --destination node`: a reply from that node within `timeout`."""
    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
    return "ok" if any(node in reply for reply in replies or []) else "no reply"


def checks(mode: str, node: str, timeout: float) -> dict[str, str]:
    """The readiness checks for a worker or beat, in order; later ones are skipped (`skipped`)
    when what they rely on has failed."""
    from core import health
    from vru.celery import app

    results = {"database": health.database_check()}
    results["migrations"] = health.migrations_check() if results["database"] == "ok" else "skipped"
    results["broker"] = broker_check(app, timeout)
    results[mode] = ping_check(app, node, timeout) if results["broker"] == "ok" else "skipped"
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", nargs="?", default="web", choices=("web", "worker", "beat"))
    parser.add_argument("--node", help="the node name to ping (default: this host's)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds")
    args = parser.parse_args(argv)
    if args.mode == "web":
        return web()
    setup_django()
    results = checks(args.mode, args.node or default_node(args.mode), args.timeout)
    for name, state in results.items():
        print(f"{name}: {state}")
    return 0 if all(state == "ok" for state in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
