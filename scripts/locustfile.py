"""The load test's traffic, run by Locust at fixed arrival rates (scripts/loadtest.py starts it).

    python scripts/locustfile.py --plan plan.json --results results.json --steps 8:300
    python scripts/locustfile.py --plan plan.json --results results.json --once   # each route once

The plan (written by scripts/loadtest.py) names the server, the people to sign in as, the API
token and the records to work on; this process imports nothing of Django. Who does what:

- practitioners (web sessions): the case list, case pages, chronology entries and referrals;
- coordinators (web): the programme intake board, and moves of enrolments along the workflow;
- managers (web): the partnership report and the caseload;
- a partner system (bearer token): referrals with an Idempotency-Key (retried with the same key,
  as docs/integration.md tells integrators), batch sync of 500 people, change-feed polling.

**Fixed arrival rate (an open model).** Locust's users normally loop: a user waits for its
response before its next request, so a slow server is sent fewer requests (a closed model) and
hides its own slowness. Here each route is one Locust user (`Arrivals`) that does not make
requests itself: it starts one every 1/rate seconds on a schedule of due times, each in a new
greenlet, and never waits for them. A slow server therefore has more requests in flight, not
fewer. How far the schedule lagged (the generator itself falling behind) and the most requests
in flight are reported with every step, so a run whose generator could not keep up is visible.

`--steps RATE:SECONDS,...` runs the mix at each total rate (requests a second, all routes
together, in the plan's proportions) for that long, with Locust's statistics reset between steps.
The results file holds each step's figures per route and every write that was answered as
accepted, for scripts/loadtest.py to find in the database.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything opens a socket (locust would do it on import too)

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, deque  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import gevent  # noqa: E402
from gevent.pool import Group  # noqa: E402
from locust import User, task  # noqa: E402
from locust.clients import HttpSession  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.stats import calculate_response_time_percentile  # noqa: E402
from urllib3 import PoolManager  # noqa: E402

TIMEOUT = 60  # seconds: a request slower than this is an error, not a data point
RETRIES = 8  # an Idempotency-Key write is retried with the same key, with back-off
INTERACTIVE_P95_MS = 500  # the bar: interactive requests' p95 below this, and no errors
VERSION = re.compile(r'name="version" value="(\d+)"')


@dataclass(frozen=True)
class Route:
    name: str  # what it is, in the figures
    who: str  # practitioner, coordinator, manager or system
    share: float  # relative rate: arrivals a second at a total rate of sum(shares)
    interactive: bool = True  # a person is waiting: held to the p95 bar


# The mix. Shares are arrivals a second when the total rate is their sum (10.3); a step at 20/s
# runs each at twice that. The 500-record batch is a background push: timed, but not held to the
# interactive bar (it takes about a second on an idle machine).
ROUTES = [
    Route("web case list", "practitioner", 2.0),
    Route("web case page", "practitioner", 3.0),
    Route("web chronology entry", "practitioner", 1.0),
    Route("web referral", "practitioner", 0.5),
    Route("web intake board", "coordinator", 0.5),
    Route("web enrolment move", "coordinator", 0.5),
    Route("web report", "manager", 0.2),
    Route("web caseload", "manager", 0.2),
    Route("api referral", "system", 1.0),
    Route("api change feed", "system", 1.0),
    Route("api sync 500 people", "system", 0.05, interactive=False),
]
BY_NAME = {r.name: r for r in ROUTES}
TOTAL_SHARE = sum(r.share for r in ROUTES)


@dataclass
class Traffic:
    """What the arrivals share: sessions, work queues, the current scale, and what was accepted."""

    plan: dict
    scale: float = 0.0  # multiplies every route's share; 0 stops new arrivals
    stopping: bool = False
    group: Group = field(default_factory=Group)
    sessions: dict = field(default_factory=dict)  # role -> itertools.cycle of HttpSession
    api: HttpSession | None = None
    lags: list = field(default_factory=list)  # seconds each start was behind its due time
    in_flight: int = 0
    most_in_flight: int = 0
    accepted: dict = field(default_factory=lambda: {
        "api_referrals": [], "web_referrals": [], "entries": [], "sync_batches": [],
        "moves": [],
    })  # fmt: skip
    unanswered: list = field(default_factory=list)  # writes given up on (outcome unknown)
    problems: list = field(default_factory=list)  # the generator's own failures
    counter: itertools.count = field(default_factory=itertools.count)
    feed_cursor: str | None = None
    to_check: deque = field(default_factory=deque)  # enrolments referred: check eligibility
    to_decide: deque = field(default_factory=deque)  # checked: the person declines the place
    cases: list = field(default_factory=list)

    def session(self, who: str) -> HttpSession:
        return next(self.sessions[who])

    def marker(self, kind: str) -> str:
        return f"loadtest-{self.plan['run']}-{kind}-{next(self.counter)}"


# --- the routes ------------------------------------------------------------------------------


def _expect(response, *statuses: int) -> bool:
    """Mark a response a failure unless its status is one of `statuses`."""
    if response.status_code in statuses:
        response.success()
        return True
    response.failure(f"HTTP {response.status_code}" if response.status_code else "no answer")
    return False


def _form(session: HttpSession, path: str, data: dict, name: str) -> bool:
    """POST a web form as a browser would (its CSRF token, no redirect followed): 302 = saved."""
    data = {**data, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")}
    with session.post(
        path, data=data, name=name, allow_redirects=False, catch_response=True, timeout=TIMEOUT,
        headers={"Referer": session.base_url + path},
    ) as response:  # fmt: skip
        return _expect(response, 302)


def _get(session: HttpSession, path: str, name: str):
    with session.get(path, name=name, catch_response=True, timeout=TIMEOUT) as response:
        _expect(response, 200)
        return response


def case_list(t: Traffic) -> None:
    # Mostly the first page, as people use it; sometimes further on, or a surname search.
    query = random.choice(["", "", "?page=2", "?page=5", f"?q={random.choice(t.plan['surnames'])}"])
    _get(t.session("practitioner"), f"/cases/{query}", "web GET /cases/")


def case_page(t: Traffic) -> None:
    _get(t.session("practitioner"), f"/cases/{random.choice(t.cases)}/", "web GET /cases/[id]/")


def chronology_entry(t: Traffic) -> None:
    marker = t.marker("entry")
    day = datetime.now(UTC).date() - timedelta(days=1)  # yesterday: never in the future in London
    data = {
        "kind": "visit", "occurred_on_day": day.day, "occurred_on_month": day.month,
        "occurred_on_year": day.year, "occurred_time": "10:15", "visibility": "case",
        "body": f"Home visit; spoke with mum. {marker}",
    }  # fmt: skip
    path = f"/cases/{random.choice(t.cases)}/entries/new/"
    if _form(t.session("practitioner"), path, data, "web POST /cases/[id]/entries/new/"):
        t.accepted["entries"].append(marker)


def web_referral(t: Traffic) -> None:
    marker = t.marker("webref")
    data = {
        "given_name": "Webload", "family_name": f"Person {marker.rsplit('-', 1)[1]}",
        "date_of_birth_day": "1", "date_of_birth_month": "5", "date_of_birth_year": "2010",
        "concerns": ["missing_episode"], "description": marker, "urgency": "standard",
        "identifier_scheme": "", "identifier_value": "", "confirm_new": "on",
    }  # fmt: skip
    if _form(t.session("practitioner"), "/referrals/new/", data, "web POST /referrals/new/"):
        t.accepted["web_referrals"].append(marker)


def intake_board(t: Traffic) -> None:
    slug = random.choice(t.plan["programmes"])
    _get(
        t.session("coordinator"),
        f"/programmes/{slug}/intake/",
        "web GET /programmes/[slug]/intake/",
    )


def enrolment_move(t: Traffic) -> None:
    """Open an enrolment, then move it on: referred -> eligibility checked -> declined."""
    if t.to_decide:
        enrolment, to = t.to_decide.popleft(), "declined"
    elif t.to_check:
        enrolment, to = t.to_check.popleft(), "eligibility_checked"
    else:
        t.problems.append("no enrolment left to move: seed more (--enrolments)")
        return
    session = t.session("coordinator")
    page = _get(session, f"/enrolments/{enrolment}/", "web GET /enrolments/[id]/")
    found = VERSION.search(page.text or "") if page.status_code == 200 else None
    if found is None:
        return  # the GET is already counted as an error; the enrolment is left where it was
    reason = "Confirmed at the intake meeting." if to == "eligibility_checked" else "Declined."
    data = {"to": to, "version": found.group(1), "reason": reason, "override_eligibility": "on"}
    if _form(session, f"/enrolments/{enrolment}/", data, "web POST /enrolments/[id]/ (move)"):
        t.accepted["moves"].append([enrolment, to])
        if to == "eligibility_checked":
            t.to_decide.append(enrolment)


def report(t: Traffic) -> None:
    months = random.choice([3, 6, 12])
    _get(t.session("manager"), f"/reports/?months={months}", "web GET /reports/")


def caseload(t: Traffic) -> None:
    _get(t.session("manager"), "/manager/caseload/", "web GET /manager/caseload/")


def _api_write(t: Traffic, path: str, body: dict, name: str, expect=(200, 201)):
    """One write, retried with the same Idempotency-Key until answered (as integrators do).
    Returns the answer's JSON, or None when refused for good or given up."""
    key = str(uuid.uuid4())
    for attempt in range(RETRIES):
        with t.api.post(
            path, json=body, name=name, catch_response=True, timeout=TIMEOUT,
            headers={"Idempotency-Key": key},
        ) as response:  # fmt: skip
            if _expect(response, *expect):
                return response.json()
            status = response.status_code
        if status and status < 500 and status not in (409, 429):
            return None  # refused for good: nothing we may count on
        gevent.sleep(min(0.25 * 2**attempt, 4))
    t.unanswered.append(key)
    return None


def api_referral(t: Traffic) -> None:
    marker = t.marker("apiref")
    body = {
        "person": {
            "given_name": "Load",
            "family_name": f"Test {marker}",
            "date_of_birth": "2010-01-01",
        },
        "concerns": ["missing_episode"],
        "description": marker,
    }
    if _api_write(t, "/api/v1/referrals/", body, "api POST /referrals/") is not None:
        t.accepted["api_referrals"].append(marker)


def change_feed(t: Traffic) -> None:
    path = "/api/v1/changes?page_size=100"
    if t.feed_cursor:
        path += f"&cursor={t.feed_cursor}"
    with t.api.get(path, name="api GET /changes", catch_response=True, timeout=TIMEOUT) as response:
        if _expect(response, 200):
            t.feed_cursor = response.json()["next_cursor"]


def sync_people(t: Traffic) -> None:
    batch = t.marker("sync")
    records = [
        {"local_id": f"{batch}-{i}", "given_name": f"Record {i}", "family_name": batch,
         "date_of_birth": f"20{i % 10:02d}-0{1 + i % 9}-{10 + i % 18}"}
        for i in range(500)
    ]  # fmt: skip
    answer = _api_write(t, "/api/v1/sync/people", {"records": records}, "api POST /sync/people")
    if answer is not None:
        created = answer["summary"]["created"]
        t.accepted["sync_batches"].append([batch, created])
        if created != len(records):
            t.problems.append(f"sync batch {batch}: {answer['summary']}")


ACTIONS = {
    "web case list": case_list,
    "web case page": case_page,
    "web chronology entry": chronology_entry,
    "web referral": web_referral,
    "web intake board": intake_board,
    "web enrolment move": enrolment_move,
    "web report": report,
    "web caseload": caseload,
    "api referral": api_referral,
    "api change feed": change_feed,
    "api sync 500 people": sync_people,
}


# --- the arrivals ------------------------------------------------------------------------------


class Arrivals(User):
    """One per route: starts the route's action every 1/rate seconds, never waiting for it."""

    abstract = True
    fixed_count = 1
    route: Route

    @task
    def arrive(self) -> None:
        traffic: Traffic = self.environment.traffic
        # A random phase, so that routes with the same rate do not all fire in the same instant.
        due = time.monotonic() + random.random() / max(self.route.share * traffic.scale, 0.1)
        while not traffic.stopping:
            rate = self.route.share * traffic.scale
            if rate <= 0:
                gevent.sleep(0.5)
                due = time.monotonic()
                continue
            delay = due - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            if traffic.stopping or self.route.share * traffic.scale <= 0:
                continue  # the step ended while waiting: nothing starts between steps
            traffic.lags.append(max(0.0, time.monotonic() - due))
            traffic.group.spawn(self._one, traffic)
            due += 1 / rate
        gevent.sleep(3600)  # stopped: idle until the runner quits

    def _one(self, traffic: Traffic) -> None:
        traffic.in_flight += 1
        traffic.most_in_flight = max(traffic.most_in_flight, traffic.in_flight)
        try:
            ACTIONS[self.route.name](traffic)
        except Exception as exc:  # the generator's own bug: reported, never silent
            traffic.problems.append(f"{self.route.name}: {exc!r}")
        finally:
            traffic.in_flight -= 1


def arrival_classes() -> list[type[Arrivals]]:
    return [
        type(f"Arrivals{i}", (Arrivals,), {"route": route, "fixed_count": 1})
        for i, route in enumerate(ROUTES)
    ]


# --- sessions ----------------------------------------------------------------------------------


def _session(env: Environment, base_url: str) -> HttpSession:
    # A pool large enough that a slow server gets more concurrent connections, not a queue here.
    pool = PoolManager(maxsize=500, block=False)
    return HttpSession(base_url, env.events.request, None, pool_manager=pool)


def sign_in(env: Environment, base_url: str, email: str, password: str) -> HttpSession:
    """Through the web sign-in page, as a person does (the CSRF cookie first)."""
    session = _session(env, base_url)
    session.get("/login/", name="sign-in", timeout=TIMEOUT)
    response = session.post(
        "/login/", name="sign-in", allow_redirects=False, timeout=TIMEOUT,
        data={"username": email, "password": password,
              "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
        headers={"Referer": f"{base_url}/login/"},
    )  # fmt: skip
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"locustfile: could not sign in as {email} (HTTP {response.status_code})")
    return session


def traffic_for(env: Environment, plan: dict) -> Traffic:
    traffic = Traffic(plan=plan)
    base = plan["base_url"]
    for who, people in plan["people"].items():
        sessions = [sign_in(env, base, p["email"], plan["password"]) for p in people]
        traffic.sessions[who] = itertools.cycle(sessions)
    traffic.api = _session(env, base)
    traffic.api.headers["Authorization"] = f"Bearer {plan['token']}"
    traffic.cases = list(plan["cases"])
    traffic.to_check.extend(plan["enrolments"])
    return traffic


# --- figures -----------------------------------------------------------------------------------


def _percentile(samples: list[float], p: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def step_figures(env: Environment, traffic: Traffic, rate: float, seconds: float) -> dict:
    routes = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        if name == "sign-in" or not entry.num_requests:
            continue
        routes[name] = {
            "method": method,
            "count": entry.num_requests,
            "errors": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": round(entry.max_response_time or 0),
            "interactive": name != "api POST /sync/people",
        }
    errors = {f"{e.method} {e.name}: {e.error}": e.occurrences for e in env.stats.errors.values()}
    total = sum(r["count"] for r in routes.values())
    failed = sum(r["errors"] for r in routes.values())
    # The bar: the p95 of every interactive request together (a route seen a few times a step
    # cannot decide it alone; each route's own p95 is in `routes`).
    times: Counter[int] = Counter()
    for (name, _), entry in env.stats.entries.items():
        if name in routes and routes[name]["interactive"]:
            times.update(entry.response_times)
    interactive_p95 = calculate_response_time_percentile(times, sum(times.values()), 0.95)
    slowest = max(
        ((r["p95"], name) for name, r in routes.items() if r["interactive"]), default=(0, "")
    )
    return {
        "rate": rate,
        "seconds": seconds,
        "arrivals": len(traffic.lags),
        "achieved_rate": round(len(traffic.lags) / seconds, 2) if seconds else 0,
        "requests": total,
        "errors": failed,
        "error_rate": failed / total if total else 0.0,
        "error_kinds": errors,
        "interactive_p95": interactive_p95,
        "slowest_route": {"name": slowest[1], "p95": slowest[0]},
        "lag_p99_ms": round(_percentile(traffic.lags, 0.99) * 1000, 1),
        "lag_max_ms": round(max(traffic.lags, default=0) * 1000, 1),
        "most_in_flight": traffic.most_in_flight,
        "held": failed == 0 and total > 0 and interactive_p95 < INTERACTIVE_P95_MS,
        "routes": routes,
    }


def parse_steps(text: str) -> list[tuple[float, float]]:
    """'5:60,10:60' -> [(5.0, 60.0), (10.0, 60.0)]: total requests a second, for seconds."""
    steps = []
    for part in text.split(","):
        rate, _, seconds = part.partition(":")
        steps.append((float(rate), float(seconds)))
    if not steps or any(r <= 0 or s <= 0 for r, s in steps):
        raise SystemExit("locustfile: --steps is RATE:SECONDS[,RATE:SECONDS...], all above 0")
    return steps


def run(plan: dict, steps: list[tuple[float, float]], *, stop_when_missed: bool) -> dict:
    env = Environment(user_classes=arrival_classes(), host=plan["base_url"])
    traffic = env.traffic = traffic_for(env, plan)  # type: ignore[attr-defined]
    runner = env.create_local_runner()
    runner.start(len(ROUTES), spawn_rate=len(ROUTES))
    figures = []
    try:
        for rate, seconds in steps:
            env.stats.reset_all()
            traffic.lags.clear()
            traffic.most_in_flight = 0
            traffic.scale = rate / TOTAL_SHARE
            gevent.sleep(seconds)
            # No new arrivals; what is in flight finishes and is counted in this step.
            traffic.scale = 0
            traffic.group.join(timeout=TIMEOUT * 2)
            figures.append(step_figures(env, traffic, rate, seconds))
            print(summary_line(figures[-1]), flush=True)
            if stop_when_missed and not figures[-1]["held"]:
                break
    finally:
        traffic.stopping = True
        traffic.scale = 0
        traffic.group.join(timeout=TIMEOUT * 2)
        runner.quit()
    return {
        "steps": figures,
        "accepted": traffic.accepted,
        "unanswered": traffic.unanswered,
        "problems": traffic.problems,
    }


def summary_line(step: dict) -> str:
    mark = "held" if step["held"] else "missed"
    return (
        f"  step {step['rate']:6.1f}/s for {step['seconds']:4.0f}s: {step['achieved_rate']:6.1f}/s "
        f"done, {step['errors']} errors, interactive p95 {step['interactive_p95']} ms (slowest: "
        f"{step['slowest_route']['name']}, {step['slowest_route']['p95']} ms), schedule lag p99 "
        f"{step['lag_p99_ms']} ms, "
        f"most in flight {step['most_in_flight']}: {mark}"
    )


def once(plan: dict) -> dict:
    """Each route once, in turn (for the quick test): nothing is scheduled."""
    env = Environment(user_classes=arrival_classes(), host=plan["base_url"])
    env.create_local_runner()  # hooks the statistics to the requests; nothing is started
    traffic = traffic_for(env, plan)
    for route in ROUTES:
        ACTIONS[route.name](traffic)
    # A second move: the enrolment just checked is declined.
    enrolment_move(traffic)
    figures = step_figures(env, traffic, 0, 0)
    return {
        "steps": [figures],
        "accepted": traffic.accepted,
        "unanswered": traffic.unanswered,
        "problems": traffic.problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--steps", help="RATE:SECONDS[,...]: total requests a second, how long")
    parser.add_argument("--stop-when-missed", action="store_true")
    parser.add_argument("--once", action="store_true", help="each route once, then stop")
    args = parser.parse_args()
    with open(args.plan) as f:
        plan = json.load(f)
    if args.once:
        results = once(plan)
    else:
        results = run(
            plan, parse_steps(args.steps or "10:60"), stop_when_missed=args.stop_when_missed
        )
    with open(args.results, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
