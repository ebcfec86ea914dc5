"""The production shape under Locust at fixed arrival rates; then nothing lost, nothing doubled.

    make loadtest                                   # the mix at 10 requests a second, 5 minutes
    make loadtest ARGS="--duration 60 --rate 20"
    make loadtest ARGS="--find-max"                 # 60-second steps up until the bar is missed
    make loadtest ARGS="--faults --duration 120"    # with a web worker killed, Redis stopped, ...

Run beside throwaway services (the Makefile does this): PostgreSQL from
scripts/with-test-services.py, and its own redis-server, gunicorn (--web-workers), a Celery worker
and beat, all on loopback. It loads the demo partnership (seed_demo) and generates cases (police
led, with chronology) and programme referrals, a partner system's API client with a webhook
subscription to a receiver this script runs on loopback, and follow-ups that fall due during the
run. Then scripts/locustfile.py drives the mix (practitioners, coordinators, managers on the web;
the partner system on the API) at a fixed arrival rate: see that file for why it is an open model.

It reports p50/p95/p99 per route, the error rate, and in --find-max mode the highest rate held
with every interactive route's p95 under 500 ms and no errors. Afterwards it waits for the
background work to finish and checks the database: every write that was answered as accepted is
there exactly once (referrals by API and web, chronology entries, enrolment moves, batch-synced
people), no write is there twice, every follow-up due was delivered (one notification, one email),
every webhook due was delivered and the receiver saw each delivery id exactly once, and the outbox
is empty. It exits non-zero when any check fails or, without --faults, any request failed.

--faults keeps the older proof of idempotency under failure: every 15 s a gunicorn worker is
killed (SIGKILL), and every minute Redis is shut down for 10 s and frozen (SIGSTOP) for 10 s; the
partner system retries with the same Idempotency-Key. Requests in flight on a killed worker fail
(counted as errors, not held against the exit code); nothing may be lost or doubled.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
os.environ.setdefault("DJANGO_ENV", "test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.realparts import Gunicorn, Process, RedisServer, Worker, free_port  # noqa: E402

LOCUSTFILE = ROOT / "scripts" / "locustfile.py"
# The "web enrolment move" route's share of the mix (locustfile.ROUTES; that module is not
# imported here: it patches sockets for gevent as it loads).
ENROLMENT_SHARE = 0.5 / 10.3
FOLLOWUP_KIND = "loadtest_check_in"
WEBHOOK_EVENTS = ["case.created", "referral.created", "entry.created"]
SURNAMES = [
    "Clarke",
    "Okafor",
    "Hughes",
    "Patel",
    "Evans",
    "Price",
    "Reed",
    "Shah",
    "Lee",
    "Morgan",
]
DRAIN_TIMEOUT = 300  # seconds for background work to finish after the load stops


class Beat(Process):
    def args(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "vru", "beat", "--loglevel=INFO"]

    def ready(self) -> bool:
        return "beat: Starting" in self.log()


# --- the webhook receiver ----------------------------------------------------------------------


class Receiver:
    """A partner's webhook endpoint on loopback: checks each signature, counts deliveries by id."""

    def __init__(self):
        self.secret = ""
        self.seen: Counter[str] = Counter()
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.record(self.headers, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vru"

    def record(self, headers, body: bytes) -> None:
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        key = base64.b64decode(self.secret.removeprefix("whsec_") or "")
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        signed = any(
            part == f"v1,{expected}" for part in headers.get("webhook-signature", "").split()
        )
        with self.lock:
            self.seen[msg_id] += 1
            self.bad_signatures += 0 if signed else 1

    def stop(self) -> None:
        self.server.shutdown()


# --- the machine -------------------------------------------------------------------------------


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _ancestor(marker: str) -> int:
    """The nearest ancestor whose command line contains `marker` (else our own pid)."""
    pid = os.getpid()
    while pid > 1:
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                return pid
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return os.getpid()


def _tree_ticks(root: int) -> int:
    """CPU jiffies used by `root` and its descendants, living or reaped."""
    parents, ticks = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    total = 0
    for pid in ticks:
        p = pid
        while p > 1 and p != root:
            p = parents.get(p, 1)
        if p == root:
            total += ticks[pid]
    return total


class Machine:
    """nproc, memory, the load average during the run, and how much of the machine's CPU went to
    work other than this load test (the machine may be shared)."""

    def __init__(self):
        self.root = _ancestor("with-test-services")
        self.loads: list[float] = []
        self.stop = threading.Event()

    def start(self) -> None:
        self.busy0, self.total0 = _cpu_ticks()
        self.ours0 = _tree_ticks(self.root)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self.stop.wait(10):
            self.loads.append(os.getloadavg()[0])

    def finish(self) -> dict:
        self.stop.set()
        busy, total = _cpu_ticks()
        ours = _tree_ticks(self.root)
        cores = os.cpu_count() or 1
        span = max(total - self.total0, 1)  # jiffies of all cores together
        memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
        return {
            "nproc": cores,
            "memory_gib": round(memory, 1),
            "cpu": platform.processor() or platform.machine(),
            "load_min": round(min(self.loads, default=0), 2),
            "load_mean": round(sum(self.loads) / len(self.loads), 2) if self.loads else 0,
            "load_max": round(max(self.loads, default=0), 2),
            "busy_pct": round(100 * (busy - self.busy0) / span, 1),
            "this_test_pct": round(100 * (ours - self.ours0) / span, 1),
            "other_pct": round(100 * max((busy - self.busy0) - (ours - self.ours0), 0) / span, 1),
        }


# --- data --------------------------------------------------------------------------------------


def seed(args, run: str) -> dict:
    """The demo partnership, generated police cases, programme referrals and the load's people."""
    from cases import services as case_services
    from casework import services as casework_services
    from partners.actor import actor_for_user
    from partners.demo import DEMO_PASSWORD
    from partners.models import Partner, Role, User
    from partners.services import user_create
    from programmes import services as programme_services
    from programmes.models import Programme

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    police = Partner.objects.get(slug="northshire-police")
    practitioners = [User.objects.get(email="officer@police.example")]
    for n in range(args.practitioners - 1):
        practitioners.append(
            user_create(
                partner=police, role=Role.PRACTITIONER, email=f"pc{n}-{run}@police.example",
                password=DEMO_PASSWORD, full_name=f"PC Load {n}",
            )
        )  # fmt: skip
    actor = actor_for_user(practitioners[0], channel="system")
    today = timezone.localdate()
    started = time.monotonic()
    cases = []
    for n in range(args.cases):
        with transaction.atomic():
            person = case_services.person_create(
                actor=actor,
                data={"given_name": f"Seeded{n}", "family_name": SURNAMES[n % len(SURNAMES)],
                      "date_of_birth": date(2008 + n % 6, 1 + n % 12, 1 + n % 28)},
            )  # fmt: skip
            case = case_services.case_create(
                actor=actor, subject=person, data={"summary": "Missing episodes; seen with older youths."}
            )  # fmt: skip
            for k in range(n % 4):
                casework_services.entry_create(
                    actor=actor, case=case, kind="visit",
                    occurred_at=timezone.now() - timedelta(days=10 + k),
                    body=f"Home visit {k + 1}; spoke with the family.",
                )  # fmt: skip
        cases.append(str(case.pk))
    enrolments = []
    programmes = {
        "divert": {"cohort": "custody", "custody_suite": "Northshire Central custody suite",
                   "approached_at": timezone.now().isoformat()},
        "street-and-arrow": {"cohort": "on_licence"},
    }  # fmt: skip
    for n in range(args.enrolments):
        slug = list(programmes)[n % len(programmes)]
        with transaction.atomic():
            person = case_services.person_create(
                actor=actor,
                data={"given_name": f"Young{n}", "family_name": SURNAMES[n % len(SURNAMES)],
                      "date_of_birth": today.replace(year=today.year - 20, day=1)},
            )  # fmt: skip
            case = case_services.case_create(
                actor=actor, subject=person, data={"summary": "Arrested"}
            )
            enrolment = programme_services.enrolment_create(
                actor=actor, programme=Programme.objects.get(slug=slug), person=person, case=case,
                details=programmes[slug],
            )  # fmt: skip
        enrolments.append(str(enrolment.pk))
    print(f"load: seeded {args.cases} cases and {args.enrolments} programme referrals in "
          f"{time.monotonic() - started:.0f}s", flush=True)  # fmt: skip
    return {
        "run": run,
        "password": DEMO_PASSWORD,
        "people": {
            "practitioner": [{"email": u.email} for u in practitioners],
            "coordinator": [{"email": "coordinator@vru.example"}],
            "manager": [{"email": "sergeant@police.example"}],
        },
        "cases": cases,
        "enrolments": enrolments,
        "programmes": list(programmes),
        "surnames": SURNAMES,
        "practitioner_ids": [str(u.pk) for u in practitioners],
    }


def api(port: int, method: str, path: str, token: str, body=None) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def followups_due(plan: dict, run: str, seconds: float) -> list:
    """One follow-up for a practitioner every 5 s of the run, each due then: the beat's minute
    sweep must tell each assignee once, by notification and by email."""
    from followups.services import followup_create
    from partners.models import User

    users = list(User.objects.filter(pk__in=plan["practitioner_ids"]))
    start = timezone.now() + timedelta(seconds=15)
    made = []
    for n in range(max(1, int(seconds // 5))):
        user = users[n % len(users)]
        made.append(
            followup_create(
                kind=FOLLOWUP_KIND, due_at=start + timedelta(seconds=5 * n),
                subject_resource="user", subject_id=user.pk,
                title=f"Load test check-in {run} {n}", assignee_user=user,
            ).pk
        )  # fmt: skip
    return made


def due_by_now(followups: list) -> list:
    """The follow-ups due by the time the load stopped (a --find-max run may stop early); the
    rest are cancelled, as a completed piece of work would be, and not checked."""
    from followups.models import FollowUp

    now = timezone.now()
    FollowUp.objects.filter(
        pk__in=followups, due_at__gt=now, status=FollowUp.Status.PENDING
    ).update(status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now)
    return list(
        FollowUp.objects.filter(pk__in=followups, due_at__lte=now).values_list("pk", flat=True)
    )


# --- faults ------------------------------------------------------------------------------------


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


# --- afterwards --------------------------------------------------------------------------------


def drained(subscription_id, head: int, followups: list) -> list[str]:
    """What is still to do; empty once background work has caught up."""
    from followups.models import FollowUp, Notification, OutboxMessage
    from sync.models import WebhookDelivery, WebhookSubscription

    waiting = []
    if n := OutboxMessage.objects.filter(published_at__isnull=True).count():
        waiting.append(f"{n} outbox messages unpublished")
    if n := FollowUp.objects.filter(pk__in=followups, status=FollowUp.Status.PENDING).count():
        waiting.append(f"{n} follow-ups not delivered")
    keys = [f.dedupe_key for f in FollowUp.objects.filter(pk__in=followups)]
    if n := Notification.objects.filter(dedupe_key__in=keys, emailed_at__isnull=True).count():
        waiting.append(f"{n} follow-up emails unsent")
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    if subscription.cursor_seq < head:
        waiting.append(f"webhook fan-out at {subscription.cursor_seq} of {head}")
    open_ = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]
    if n := WebhookDelivery.objects.filter(subscription=subscription, status__in=open_).count():
        waiting.append(f"{n} webhook deliveries to send")
    return waiting


def check(results: dict, plan: dict, subscription_id, followups: list, receiver: Receiver,
          mail_dir: Path) -> tuple[list[str], dict]:  # fmt: skip
    """Every accepted write exactly once, nothing twice, every follow-up and webhook delivered
    once, the outbox empty. Returns (failures, counts)."""
    from cases.models import Person
    from casework.models import ChronologyEntry, Referral
    from followups.models import FollowUp, Notification, OutboxMessage
    from programmes.models import EnrolmentTransition
    from sync.models import WebhookDelivery

    failures: list[str] = []
    counts: dict[str, str] = {}
    accepted = results["accepted"]
    prefix = f"loadtest-{plan['run']}-"

    def exactly_once(what: str, markers: list[str], found: Counter) -> None:
        lost = [m for m in markers if found[m] == 0]
        doubled = [m for m, c in found.items() if c > 1]
        counts[what] = f"{len(markers)} accepted, {len(lost)} lost, {len(doubled)} doubled"
        if lost or doubled:
            failures.append(
                f"{what}: {len(lost)} lost {lost[:3]}, {len(doubled)} doubled {doubled[:3]}"
            )

    referrals = Counter(Referral.objects.filter(description__startswith=prefix)
                        .values_list("description", flat=True))  # fmt: skip
    exactly_once("API referrals", accepted["api_referrals"], referrals)
    exactly_once("web referrals", accepted["web_referrals"], referrals)
    entries = Counter(
        body.rsplit(" ", 1)[1]
        for body in ChronologyEntry.objects.filter(body__contains=prefix).values_list("body", flat=True)
    )  # fmt: skip
    exactly_once("chronology entries", accepted["entries"], entries)
    people = Counter(Person.objects.filter(family_name__startswith=prefix)
                     .values_list("family_name", flat=True))  # fmt: skip
    short = [f"{batch} ({created} of 500 created, {people[batch]} held)"
             for batch, created in accepted["sync_batches"] if people[batch] != created]  # fmt: skip
    counts["batch sync"] = (f"{len(accepted['sync_batches'])} batches accepted, "
                            f"{sum(c for _, c in accepted['sync_batches'])} people, "
                            f"{len(short)} batches not held exactly")  # fmt: skip
    if short:
        failures.append(f"batch sync: {short[:3]}")
    moves = Counter(
        f"{e}:{to}"
        for e, to in EnrolmentTransition.objects.filter(
            enrolment_id__in=plan["enrolments"]
        ).values_list("enrolment_id", "to_status")
        if to != "referred"
    )
    exactly_once("enrolment moves", [f"{e}:{to}" for e, to in accepted["moves"]], moves)

    # Follow-ups: each told to its assignee once, by one notification and one email.
    mail = Counter(json.loads(p.read_text())["subject"] for p in mail_dir.glob("*.json"))
    undelivered, emails = 0, Counter()
    for f in FollowUp.objects.filter(pk__in=followups):
        told = Notification.objects.filter(dedupe_key=f.dedupe_key)
        if f.status == FollowUp.Status.PENDING or told.count() != 1 or told.filter(emailed_at=None):
            undelivered += 1
        emails[mail[f"VRU Case Coordination: {f.title}"]] += 1
    counts["follow-ups due"] = (f"{len(followups)}, {undelivered} not delivered once; emails per "
                                f"follow-up {dict(sorted(emails.items()))}")  # fmt: skip
    if undelivered or set(emails) != {1}:
        failures.append(
            f"follow-ups: {undelivered} not delivered, emails per follow-up {dict(emails)}"
        )

    deliveries = WebhookDelivery.objects.filter(subscription_id=subscription_id)
    ids = {str(pk) for pk in deliveries.values_list("pk", flat=True)}
    delivered = deliveries.filter(status=WebhookDelivery.Status.DELIVERED).count()
    twice = [i for i, c in receiver.seen.items() if c > 1]
    missing = ids - set(receiver.seen)
    strangers = set(receiver.seen) - ids
    counts["webhooks"] = (f"{len(ids)} due, {delivered} delivered, receiver saw {len(receiver.seen)}"
                          f" ids: {len(missing)} missing, {len(twice)} twice, {len(strangers)} unknown"
                          f", {receiver.bad_signatures} bad signatures")  # fmt: skip
    if delivered != len(ids) or twice or missing or strangers or receiver.bad_signatures:
        failures.append(f"webhooks: {counts['webhooks']}")
    left = OutboxMessage.objects.filter(published_at__isnull=True).count()
    counts["outbox unpublished"] = str(left)
    if left:
        failures.append(f"outbox: {left} unpublished")
    if results["problems"]:
        failures.append(f"load generator: {results['problems'][:5]}")
    return failures, counts


def table(step: dict) -> str:
    lines = [
        "| route | p50 | p95 | p99 | count | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in sorted(step["routes"].items()):
        lines.append(f"| {name} | {r['p50']} ms | {r['p95']} ms | {r['p99']} ms | {r['count']:,} "
                     f"| {r['errors']} |")  # fmt: skip
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def steps_for(args) -> list[tuple[float, float]]:
    if not args.find_max:
        return [(args.rate, args.duration)]
    rates = [args.start_rate * args.rate_factor**n for n in range(args.max_steps)]
    return [(round(r, 1), args.step_duration) for r in rates]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--rate", type=float, default=10, help="requests a second, all routes")
    parser.add_argument("--find-max", action="store_true",
                        help="step the rate up until a step misses the bar")  # fmt: skip
    parser.add_argument("--start-rate", type=float, default=5)
    parser.add_argument("--rate-factor", type=float, default=1.3)
    parser.add_argument("--step-duration", type=float, default=60)
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--practitioners", type=int, default=4)
    parser.add_argument("--cases", type=int, default=1000, help="generated police cases")
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--results", help="also write every figure to this JSON file")
    args = parser.parse_args()
    # Stopped from outside (Ctrl-C, a timeout): still stop every server it started (`finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not os.environ.get("TEST_REDIS_SERVER") or not os.environ.get("DATABASE_URL"):
        sys.exit("Run it through `make loadtest` (it needs the test services).")
    steps = steps_for(args)
    seconds = sum(s for _, s in steps)
    # Enough referrals for the coordinators' moves at the highest rates asked for (two each).
    args.enrolments = math.ceil(sum(r * s for r, s in steps) * ENROLMENT_SHARE / 2 * 1.3) + 10

    call_command("migrate", verbosity=0)
    from partners.models import Partner
    from partners.services import api_client_create
    from sync import feed

    run = uuid.uuid4().hex[:6]
    plan = seed(args, run)
    _, token = api_client_create(
        partner=Partner.objects.get(slug="northshire-police"), name=f"load-rms-{run}",
        scopes=["read", "write", "sync"],
    )  # fmt: skip
    machine = Machine()
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="vru-loadtest-") as tmp:
        tmp = Path(tmp)
        (tmp / "var").mkdir()
        mail_dir = tmp / "mail"
        mail_dir.mkdir()
        redis = RedisServer(tmp)
        redis.start()
        env = {
            **os.environ,
            "REDIS_URL": redis.url,
            "VAR_DIR": str(tmp / "var"),
            "API_RATE_LIMIT": "100000/min",
            "SYNC_RATE_LIMIT": "100000/min",
            "EMAIL_BACKEND": "tests.followups.mail_backend.EmailBackend",
            "TEST_MAIL_DIR": str(mail_dir),
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",  # the receiver, on loopback
            "PYTHONPATH": str(ROOT),
        }
        web = Gunicorn("web", env, tmp, workers=args.web_workers)
        processes = [web, Worker("worker", env, tmp), Beat("beat", env, tmp)]
        stop = threading.Event()
        fault_log: list[str] = []
        load = None
        try:
            for process in processes:
                process.start()
            status, body = api(web.port, "POST", "/api/v1/webhooks/", token,
                               {"url": receiver.url, "event_types": WEBHOOK_EVENTS})  # fmt: skip
            if status != 201:
                sys.exit(f"load: could not subscribe the webhook receiver: {status} {body}")
            receiver.secret, subscription_id = body["secret"], body["id"]
            plan.update(base_url=web.url, token=token)
            (tmp / "plan.json").write_text(json.dumps(plan))
            followups = followups_due(plan, run, seconds)
            print(f"load: {' then '.join(f'{r}/s for {s:.0f}s' for r, s in steps)}"
                  f"{' (until a step misses the bar)' if args.find_max else ''}; "
                  f"{args.web_workers} web workers; faults {'on' if args.faults else 'off'}",
                  flush=True)  # fmt: skip
            if args.faults:
                threading.Thread(
                    target=faults, args=(web, redis, stop, fault_log), daemon=True
                ).start()
            machine.start()
            load = subprocess.Popen(
                [sys.executable, str(LOCUSTFILE), "--plan", str(tmp / "plan.json"),
                 "--results", str(tmp / "results.json"),
                 "--steps", ",".join(f"{r}:{s}" for r, s in steps),
                 *(["--stop-when-missed"] if args.find_max else [])],
                cwd=ROOT, start_new_session=True,
            )  # fmt: skip
            code = load.wait(timeout=seconds + 600)
            stop.set()
            figures = machine.finish()
            if code != 0:
                sys.exit(f"load: the load generator failed (exit {code})")
            results = json.loads((tmp / "results.json").read_text())
            if redis.proc is None or redis.proc.poll() is not None:
                redis.start()
            print("load: done; waiting for the background work to finish", flush=True)
            head = feed.sequence()
            followups = due_by_now(followups)
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while (waiting := drained(subscription_id, head, followups)) and (
                time.monotonic() < deadline
            ):
                time.sleep(3)
            if waiting:
                print(f"load: still waiting after {DRAIN_TIMEOUT}s: {'; '.join(waiting)}")
            failures, counts = check(results, plan, subscription_id, followups, receiver, mail_dir)
        finally:
            stop.set()
            if load is not None and load.poll() is None:
                os.killpg(load.pid, signal.SIGKILL)
                load.wait()
            for process in processes:
                process.kill()
            redis.stop()
            receiver.stop()

    report = {"args": vars(args), "machine": figures, "results": results, "counts": counts,
              "failures": failures, "faults": fault_log}  # fmt: skip
    if args.results:
        Path(args.results).write_text(json.dumps(report, indent=1))
    print("\nfaults:" if fault_log else "", *fault_log, sep="\n  ")
    for step in results["steps"]:
        print(f"\n{step['rate']}/s for {step['seconds']:.0f}s: {step['requests']:,} requests, "
              f"{step['errors']} errors ({step['error_rate']:.2%}), interactive p95 "
              f"{step['interactive_p95']} ms, schedule lag p99 {step['lag_p99_ms']} ms "
              f"(max {step['lag_max_ms']} ms), most in flight {step['most_in_flight']}: "
              f"{'held' if step['held'] else 'missed'}")  # fmt: skip
        if step["error_kinds"]:
            print("  errors:", json.dumps(step["error_kinds"])[:600])
        if not args.find_max or step is results["steps"][-1] or step["held"]:
            print(table(step))
    if args.find_max:
        held = [s["rate"] for s in results["steps"] if s["held"]]
        best = f"{max(held)} requests a second" if held else "none (the first step missed it)"
        print(f"\nhighest rate held (interactive p95 < 500 ms, no errors): {best}")
    print(f"\nmachine: {figures['nproc']} cores, {figures['memory_gib']} GiB; load average "
          f"{figures['load_min']}-{figures['load_max']} (mean {figures['load_mean']}); CPU busy "
          f"{figures['busy_pct']}% of all cores, this test {figures['this_test_pct']}%, other work "
          f"{figures['other_pct']}%")  # fmt: skip
    for what, line in counts.items():
        print(f"{what}: {line}")
    if results["unanswered"]:
        print(f"writes given up (outcome unknown): {len(results['unanswered'])}")
    errors = sum(s["errors"] for s in results["steps"])
    if errors and not args.faults and not args.find_max:
        failures.append(f"{errors} requests failed")
    print(
        "\nFAILED:\n  " + "\n  ".join(failures)
        if failures
        else "\nOK: nothing lost, nothing doubled"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
