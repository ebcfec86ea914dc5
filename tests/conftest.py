from __future__ import annotations

import os
import shutil

import pytest
from celery import Celery
from django.db import connection
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from cases import services as case_services
from partners.models import Role
from tests import factories, realparts

# Property tests (hypothesis) draw the same examples on every run of the suite, so a run on a
# fresh machine tests what was tested here. To explore new examples, run with
# HYPOTHESIS_PROFILE=explore (and raise max_examples) before a change lands.
hypothesis_settings.register_profile("suite", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", phases=[p for p in Phase if p is not Phase.explain])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


class Api(APIClient):
    """An API client that sends a bearer token on every request."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if token:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture(autouse=True)
def _sign_in_email_step_count():
    """The sign-in page's email-step limit (sso.views) counts per client address in the cache,
    which outlives a test: each test starts with no count for the test client's address."""
    from sso.views import email_step_reset

    email_step_reset("127.0.0.1")


@pytest.fixture
def police(db):
    return factories.make_partner("police", sector="police", name="Northshire Police")


@pytest.fixture
def school(db):
    return factories.make_partner("school", sector="education", name="Riverside School")


@pytest.fixture
def outsider_partner(db):
    return factories.make_partner("elsewhere", sector="housing", name="Elsewhere Homes")


@pytest.fixture
def vru(db):
    return factories.make_partner("vru", sector="vru", name="Northshire VRU")


@pytest.fixture
def officer(police):
    return factories.make_user(police, Role.PRACTITIONER, email="officer@police.example")


@pytest.fixture
def sergeant(police):
    return factories.make_user(police, Role.MANAGER, email="sergeant@police.example")


@pytest.fixture
def teacher(school):
    return factories.make_user(school, Role.PRACTITIONER, email="teacher@school.example")


@pytest.fixture
def outsider(outsider_partner):
    return factories.make_user(
        outsider_partner, Role.PRACTITIONER, email="outsider@elsewhere.example"
    )


@pytest.fixture
def coordinator(vru):
    return factories.make_user(vru, Role.COORDINATOR, email="coordinator@vru.example")


@pytest.fixture
def auditor(vru):
    return factories.make_user(vru, Role.AUDITOR, email="auditor@vru.example")


@pytest.fixture
def school_manager(school):
    return factories.make_user(school, Role.MANAGER, email="head@school.example")


# People, cases, shares and partner systems. The police lead; the school is the usual other partner.


@pytest.fixture
def agreement(police, school, vru, outsider_partner):
    """Police, school and the VRU share under one agreement; the outsider's partner is not a party."""
    return factories.AgreementFactory(parties=[police, school, vru])


@pytest.fixture
def make_person(officer):
    """make_person(by=officer, **fields, identifiers=[...]) → a person recorded by `by`."""

    def make(by=None, **data):
        return factories.PersonFactory(by=by or officer, **data)

    return make


@pytest.fixture
def make_case(officer, make_person):
    """make_case(by=officer, subject=None, **fields) → a case led by `by`'s partner (about a new
    person unless `subject` is given)."""

    def make(by=None, subject=None, **data):
        by = by or officer
        return factories.CaseFactory(by=by, subject=subject or make_person(by=by), **data)

    return make


@pytest.fixture
def share_with(officer, agreement):
    """share_with(case, partner, by=officer) → the share, under the agreement."""

    def share(case, partner, by=None):
        return case_services.case_share(
            actor=factories.actor(by or officer),
            case=case,
            partner=partner,
            lawful_basis="public_task",
            reason="Joint safeguarding",
        )

    return share


@pytest.fixture
def shared_case(make_case, share_with, school):
    """A case the police lead and share with the school."""
    case = make_case(summary="Missing from school; seen with older peers.")
    share_with(case, school)
    return case


@pytest.fixture
def share(shared_case, school):
    return shared_case.shares.get(partner=school)


@pytest.fixture
def police_system(police):
    """The police records system: an API client with read, write and sync."""
    return factories.client_token(police, "read,write,sync", name="police-rms")


@pytest.fixture
def school_system(school):
    return factories.client_token(school, "read,write,sync", name="school-mis")


def postgres_only(test):
    """Real concurrent transactions: PostgreSQL only (SQLite has a single writer)."""
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (real concurrent transactions)"
    )
    return pytest.mark.postgres_only(skip(test))


@pytest.fixture
def api():
    """api(user_or_token) → an API client authenticated as that user (or with that raw token)."""

    def make(who=None) -> Api:
        if who is None:
            return Api()
        token = who if isinstance(who, str) else factories.token_for(who)
        return Api(token)

    return make


@pytest.fixture
def stack(tmp_path):
    """A Redis server, a mail folder, and worker/web/publisher factories; all stopped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("other processes share the test database on PostgreSQL only")
    redis = realparts.RedisServer(tmp_path)
    mail = tmp_path / "mail"
    mail.mkdir()
    (tmp_path / "var").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": realparts.database_url(),
        "REDIS_URL": redis.url,
        "DJANGO_ENV": "test",
        "VAR_DIR": str(tmp_path / "var"),
        # Workers killed mid-task leave their multiprocessing temp directories (pymp-*) behind.
        "TMPDIR": str(tmp_path),
        "EMAIL_BACKEND": "tests.followups.mail_backend.EmailBackend",
        "TEST_MAIL_DIR": str(mail),
        "PYTHONPATH": str(realparts.ROOT),
    }
    processes: list[realparts.Process] = []
    publishers: list[Celery] = []

    class Stack:
        def worker(self, name: str, **extra_env) -> realparts.Worker:
            worker = realparts.Worker(name, env, tmp_path, **extra_env)
            processes.append(worker)
            return worker.start()

        def workers(self, *names: str) -> list[realparts.Worker]:
            """Several workers, started side by side."""
            started = [realparts.Worker(name, env, tmp_path) for name in names]
            processes.extend(started)
            for worker in started:
                worker.launch()
            for worker in started:
                worker.wait_ready()
            return started

        def web(self, name: str = "web", **extra_env) -> realparts.Gunicorn:
            server = realparts.Gunicorn(name, env, tmp_path, **extra_env)
            processes.append(server)
            return server.start()

        def send(self, task: str, **kwargs) -> None:
            """What beat does: put a task on the Redis queue."""
            if not publishers:
                publishers.append(
                    Celery("integration-tests", broker=redis.url, set_as_current=False)
                )
            publishers[0].send_task(task, kwargs=kwargs)

        def mails(self) -> list[dict]:
            return realparts.sent(mail)

    stack = Stack()
    stack.redis, stack.env = redis, env
    redis.start()
    try:
        yield stack
    finally:
        for process in processes:
            process.kill()  # nothing to wait for: every test ends with the work done or abandoned
        for publisher in publishers:
            publisher.close()
        redis.stop()
        # Let the database flush after the test: no other connection may hold a lock.
        shutil.rmtree(mail, ignore_errors=True)
