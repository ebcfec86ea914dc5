"""A fixed-rate load test of the production shape, with faults: nothing doubled, nothing lost.

    make loadtest                      # 5 minutes, with faults
    make loadtest ARGS="--duration 60 --no-faults"

Run beside throwaway services (the Makefile does this): PostgreSQL from
scripts/with-test-services.py, and its own redis-server, gunicorn (--workers N), a Celery worker
and beat, all on loopback. Then, at fixed arrival rates (requests are started on a schedule, not
when the previous one returns, so a slow server gets more concurrent requests, not fewer):

- partner systems write referrals with an Idempotency-Key and retry a failure with the same key
  (a dropped connection, a 5xx, a 409 `idempotency_in_flight`), as docs/integration.md tells them;
- practitioners read the case list;
- partner systems poll the change feed.

With faults on, at fixed intervals: a gunicorn worker is killed with SIGKILL, Redis is shut down
for a while, and Redis is frozen (SIGSTOP) for a while.

Afterwards it waits for the outbox to drain and checks the database: every write that was
answered 201 is there exactly once (duplicates 0, lost 0), and prints p50/p95/p99 per request
kind, the 5xx count and the error rate. It exits non-zero if anything was doubled, lost or
answered 5xx.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
os.environ.setdefault("DJANGO_ENV", "test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from tests.realparts import Gunicorn, Process, RedisServer, Worker  # noqa: E402

RETRIES = 8


class Beat(Process):
    def args(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "vru", "beat", "--loglevel=INFO"]

    def ready(self) -> bool:
        return "beat: Starting" in self.log()


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.accepted: dict[str, str] = {}  # write token -> referral id answered
        self.given_up: list[str] = []

    def record(self, kind: str, status: int, ms: float) -> None:
        with self.lock:
            self.timings[kind].append(ms)
            self.statuses[kind][status] += 1


def request(port: int, method: str, path: str, token: str, body=None, headers=None):
    """(status, parsed body) or (0, None) when the connection failed or dropped."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            method,
            path,
            json.dumps(body) if body is not None else None,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
             **(headers or {})},
        )  # fmt: skip
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw or b"null")
        except ValueError:
            return response.status, None
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        conn.close()


def timed(results: Results, kind: str, port: int, *args, **kwargs):
    start = time.perf_counter()
    status, body = request(port, *args, **kwargs)
    results.record(kind, status, (time.perf_counter() - start) * 1000)
    return status, body


def write_referral(results: Results, port: int, token: str, n: int) -> None:
    """One referral, retried with the same key until answered (as an integrator would)."""
    marker = f"loadtest-{n}-{uuid.uuid4().hex[:8]}"
    body = {
        "person": {"given_name": "Load", "family_name": f"Test {n}", "date_of_birth": "2010-01-01"},
        "concerns": ["missing_episode"],
        "description": marker,
    }
    key = str(uuid.uuid4())
    for attempt in range(RETRIES):
        status, answer = timed(
            results, "POST /referrals/", port, "POST", "/api/v1/referrals/", token, body,
            {"Idempotency-Key": key},
        )  # fmt: skip
        if status in (200, 201) and answer:
            with results.lock:
                results.accepted[marker] = answer["id"]
            return
        if status and status < 500 and status not in (409, 429):
            break  # refused for good: not a write we may count on
        time.sleep(min(0.25 * 2**attempt, 4))
    with results.lock:
        results.given_up.append(marker)


def schedule(pool, rate: float, duration: float, job, stop: threading.Event) -> threading.Thread:
    """Start `job(n)` every 1/rate seconds for `duration`: an open-loop, fixed arrival rate."""

    def run():
        start = time.monotonic()
        n = 0
        while not stop.is_set():
            due = start + n / rate
            if due - start > duration:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(job, n)
            n += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def gunicorn_workers(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def faults(web: Gunicorn, redis: RedisServer, stop: threading.Event, log: list[str]) -> None:
    """Every 15 s kill a web worker; every 60 s stop Redis for 10 s, then freeze it for 10 s."""
    tick = 0
    while not stop.wait(5):
        tick += 5
        if tick % 15 == 0:
            workers = gunicorn_workers(web.proc.pid)
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                log.append(f"{tick:4}s kill -9 gunicorn worker {workers[0]}")
        if tick % 60 == 20:
            redis.stop()
            log.append(f"{tick:4}s redis stopped")
            stop.wait(10)
            redis.start()
            log.append(f"{tick + 10:4}s redis started")
        if tick % 60 == 45:
            redis.freeze()
            log.append(f"{tick:4}s redis frozen")
            stop.wait(10)
            redis.thaw()
            log.append(f"{tick + 10:4}s redis thawed")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--write-rate", type=float, default=8, help="referrals per second")
    parser.add_argument("--read-rate", type=float, default=10, help="case lists per second")
    parser.add_argument("--feed-rate", type=float, default=2, help="feed polls per second")
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    # Stopped from outside (Ctrl-C, a timeout): still stop every server it started (`finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not os.environ.get("TEST_REDIS_SERVER") or not os.environ.get("DATABASE_URL"):
        sys.exit("Run it through `make loadtest` (it needs the test services).")

    call_command("migrate", verbosity=0)
    from cases.models import Person  # noqa: F401
    from casework.models import Referral
    from followups.models import OutboxMessage
    from tests import factories

    def unpublished() -> int:
        return OutboxMessage.objects.filter(published_at__isnull=True).count()

    police = factories.make_partner(f"load-{uuid.uuid4().hex[:6]}", sector="police")
    system = factories.client_token(police, "read,write,sync", name="load-rms")
    officer = factories.make_user(police, email=f"officer-{uuid.uuid4().hex[:6]}@load.example")
    reader = factories.token_for(officer)

    with tempfile.TemporaryDirectory(prefix="vru-loadtest-") as tmp:
        tmp = Path(tmp)
        (tmp / "var").mkdir()
        redis = RedisServer(tmp)
        redis.start()
        env = {
            **os.environ,
            "REDIS_URL": redis.url,
            "VAR_DIR": str(tmp / "var"),
            "API_RATE_LIMIT": "100000/min",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONPATH": str(ROOT),
        }
        web = Gunicorn("web", env, tmp, workers=args.web_workers)
        processes = [web, Worker("worker", env, tmp), Beat("beat", env, tmp)]
        stop = threading.Event()
        fault_log: list[str] = []
        results = Results()
        try:
            for process in processes:
                process.start()
            port = web.port
            print(f"load: {args.duration:.0f}s; writes {args.write_rate}/s, case lists "
                  f"{args.read_rate}/s, feed {args.feed_rate}/s; faults "
                  f"{'off' if args.no_faults else 'on'}", flush=True)  # fmt: skip
            feed_cursor = {"next": None}

            def poll_feed(_n):
                path = "/api/v1/changes?page_size=100"
                if feed_cursor["next"]:
                    path += f"&cursor={feed_cursor['next']}"
                status, body = timed(results, "GET /changes", port, "GET", path, system)
                if status == 200 and body:
                    feed_cursor["next"] = body["next_cursor"]

            with ThreadPoolExecutor(max_workers=64) as pool:
                threads = [
                    schedule(pool, args.write_rate, args.duration,
                             lambda n: write_referral(results, port, system, n), stop),
                    schedule(pool, args.read_rate, args.duration,
                             lambda n: timed(results, "GET /cases/", port, "GET",
                                             "/api/v1/cases/?page_size=50", reader), stop),
                    schedule(pool, args.feed_rate, args.duration, poll_feed, stop),
                ]  # fmt: skip
                if not args.no_faults:
                    threading.Thread(
                        target=faults, args=(web, redis, stop, fault_log), daemon=True
                    ).start()
                for thread in threads:
                    thread.join()
                stop.set()
            if redis.proc is None or redis.proc.poll() is not None:
                redis.start()
            # Everything accepted must be published and done: the outbox drains.
            print("load: done; waiting for the outbox to drain", flush=True)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and unpublished():
                time.sleep(2)
            left = unpublished()
        finally:
            stop.set()
            for process in processes:
                process.kill()
            redis.stop()

    print("\nfaults:" if fault_log else "", *fault_log, sep="\n  ")
    print(f"\n{'request':18} {'count':>7} {'p50':>8} {'p95':>8} {'p99':>8}  statuses")
    five_xx = 0
    for kind, samples in sorted(results.timings.items()):
        statuses = dict(sorted(results.statuses[kind].items()))
        five_xx += sum(c for s, c in statuses.items() if s >= 500)
        print(f"{kind:18} {len(samples):7} {statistics.median(samples):6.0f}ms "
              f"{percentile(samples, 0.95):6.0f}ms {percentile(samples, 0.99):6.0f}ms  "
              f"{statuses}")  # fmt: skip
    markers = list(results.accepted)
    counts = defaultdict(int)
    for description in Referral.objects.filter(description__startswith="loadtest-").values_list(
        "description", flat=True
    ):
        counts[description] += 1
    duplicates = sum(1 for c in counts.values() if c > 1)
    lost = sum(1 for m in markers if counts.get(m, 0) == 0)
    dropped = sum(
        c for kind in results.statuses for s, c in results.statuses[kind].items() if s == 0
    )
    total = sum(len(s) for s in results.timings.values())
    print(
        f"\nwrites accepted {len(markers)}, given up {len(results.given_up)}, duplicates "
        f"{duplicates}, lost {lost}; 5xx {five_xx}; dropped connections {dropped}; error rate "
        f"{(five_xx + dropped) / max(total, 1):.2%} of {total} requests; outbox left {left}"
    )
    return 1 if duplicates or lost or five_xx or left else 0


if __name__ == "__main__":
    sys.exit(main())
