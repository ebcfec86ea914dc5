"""Logs (vru/settings.py LOGGING, core/log_format.py, core/request_id.py): a request id on every
request, response, log line and error page; a task id on task lines; each line once; a 403 without
its traceback; JSON lines with a fixed set of fields, and no personal data in any of them."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import date

import pytest
from celery import Celery
from django.test import RequestFactory
from django.urls import path

from cases import services as case_services
from core.log_format import JsonFormatter
from core.views import server_error
from partners.actor import actor_for_user
from vru.urls import urlpatterns as service_urlpatterns

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"^[0-9a-f]{32}$")
NAME, NHS_NUMBER = "Okonkwo", "9434765919"


def boom(request):
    raise RuntimeError("an unexpected failure")


# For the 500 page: the service's URLs and one that fails (@pytest.mark.urls below).
urlpatterns = [path("boom", boom), *service_urlpatterns]
handler500 = "core.views.server_error"


@pytest.fixture
def log_output():
    """Everything the console handlers on the way of Django's, the request log's and a task's
    records write (Django's own handlers too, were any left), as one text: the handlers write to
    it instead of stderr during the test."""
    buffer = io.StringIO()
    handlers = set()
    for name in ("django.request", "django.security.csrf", "django.server", "vru.requests", "x"):
        logger = logging.getLogger(name)
        while logger:
            handlers.update(h for h in logger.handlers if type(h) is logging.StreamHandler)
            logger = logger.parent if logger.propagate else None
    # Swapped without setStream(), which would flush the old stream: a test that ran django.setup()
    # again leaves the root handler on that test's (since closed) captured stderr.
    old = {h: h.stream for h in handlers}
    for handler in handlers:
        handler.stream = buffer
    yield buffer
    for handler, stream in old.items():
        handler.stream = stream


@pytest.fixture
def json_lines(log_output, settings):
    """The console handler writes JSON, as in production, and logs every request."""
    settings.LOG_REQUESTS = True
    (console,) = logging.getLogger().handlers[:1]
    plain = console.formatter
    console.setFormatter(JsonFormatter())

    def lines() -> list[dict]:
        return [json.loads(line) for line in log_output.getvalue().splitlines() if line]

    yield lines
    console.setFormatter(plain)


# The request id


def test_every_response_has_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert GENERATED.match(first) and GENERATED.match(second) and first != second


def test_a_sane_incoming_request_id_is_kept(client, api, officer):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="rms-2026-000123")["X-Request-ID"] == (
        "rms-2026-000123"
    )
    response = api(officer).get(
        "/api/v1/me", HTTP_X_REQUEST_ID="a1b2c3d4-e5f6-0000-1111-222233334444"
    )
    assert response["X-Request-ID"] == "a1b2c3d4-e5f6-0000-1111-222233334444"


@pytest.mark.parametrize(
    "offered",
    ["short", "x" * 65, "has space in it", "new\nline-forged-log", "semi;colon;id", "ünïcödé-id"],
)
def test_an_unsafe_incoming_request_id_is_replaced(client, offered):
    assert GENERATED.match(client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"])


def test_log_lines_carry_the_request_id(client, log_output):
    response = client.get("/no-such-page")
    line = next(x for x in log_output.getvalue().splitlines() if "Not Found" in x)
    assert f"[{response['X-Request-ID']}]" in line


def test_lines_outside_a_request_say_so(log_output):
    logging.getLogger("vru.test").warning("a line outside any request")
    assert "[-] a line outside any request" in log_output.getvalue()


def test_task_log_lines_carry_the_task_id(log_output, json_lines):
    app = Celery("logging-test", set_as_current=False)

    @app.task(name="tests.say_something")
    def say_something():
        logging.getLogger("tests.task").warning("working on it")

    say_something.apply(task_id="task-1234-abcd")
    logging.getLogger("tests.task").warning("after the task")
    lines = {line["message"]: line for line in json_lines()}
    assert lines["working on it"]["task_id"] == "task-1234-abcd"
    assert lines["after the task"]["task_id"] == "-"


# Each line once; a 403 without a traceback


def test_django_lines_are_written_once_in_development(client, settings, log_output):
    settings.DEBUG = True  # Django's own console handler only wrote with DEBUG
    client.get("/no-such-page")
    lines = [x for x in log_output.getvalue().splitlines() if "Not Found" in x]
    assert len(lines) == 1


def test_a_403_is_one_line_without_a_traceback(client, settings, officer, log_output):
    settings.DEBUG = True
    client.force_login(officer)
    response = client.get("/manager/staff/")  # managers only: PermissionDenied
    assert response.status_code == 403
    output = log_output.getvalue()
    assert output.count("\n") <= 1, output
    assert "Traceback" not in output and "PermissionDenied" not in output
    assert "Forbidden" in output


# Error pages give the request id for support


def test_the_404_and_403_pages_show_the_request_id(client, settings, officer):
    for debug in (False, True):
        settings.DEBUG = debug
        response = client.get("/cases/00000000-0000-0000-0000-000000000000/")
        client.force_login(officer)
        not_found = client.get("/no-such-page")
        forbidden = client.get("/manager/staff/")
        client.logout()
        for page in (not_found, forbidden):
            assert page["X-Request-ID"] in page.content.decode()
            assert "give them this reference" in page.content.decode()
        assert response.status_code == 302  # signed out: to the sign-in page


@pytest.mark.urls("tests.test_logging")
def test_the_500_page_shows_the_request_id(client, log_output):
    client.raise_request_exception = False
    response = client.get("/boom", HTTP_X_REQUEST_ID="support-ticket-42")
    assert response.status_code == 500
    assert "support-ticket-42" in response.content.decode()
    assert response["X-Request-ID"] == "support-ticket-42"
    assert "[support-ticket-42]" in log_output.getvalue()  # the traceback's line has it too


def test_the_500_page_renders_without_a_request_id():
    request = RequestFactory().get("/")
    assert b"give them this reference" not in server_error(request).content


# JSON lines and personal data


def test_json_lines_have_a_fixed_set_of_fields(client, json_lines):
    response = client.get("/no-such-page?q=something")
    lines = json_lines()
    assert lines, "nothing logged"
    for line in lines:
        assert set(line) <= {
            "time", "level", "logger", "message", "request_id", "task_id", "status_code",
            "method", "route", "duration_ms", "exc_info", "stack_info",
        }  # fmt: skip
        assert line["request_id"] == response["X-Request-ID"]
    request_line = next(x for x in lines if x["logger"] == "vru.requests")
    assert request_line["route"] == "unmatched"
    assert request_line["status_code"] == 404
    assert request_line["method"] == "GET"


def test_no_personal_data_in_log_lines(client, api, officer, settings, json_lines):
    settings.DEBUG = True
    actor = actor_for_user(officer, channel="api")
    person = case_services.person_create(
        actor=actor,
        data={"given_name": "Tamsin", "family_name": NAME, "date_of_birth": date(2011, 5, 2)},
        identifiers=[{"scheme": "nhs", "value": NHS_NUMBER}],
    )
    case_services.case_create(actor=actor, subject=person, data={})
    caller = api(officer)
    for query in (NAME, NHS_NUMBER, f"Tamsin {NAME}"):
        assert caller.get("/api/v1/people/", {"q": query}).status_code == 200
        assert caller.get("/api/v1/people/nope", {"q": query}).status_code == 404
        assert caller.get("/api/v1/people/", {"q": query, "updated_since": "x"}).status_code == 400
    client.force_login(officer)
    client.get("/cases/", {"q": NAME})
    client.get("/manager/staff/", {"q": NHS_NUMBER})  # 403
    client.get("/cases/no-such-case/", {"q": NHS_NUMBER})  # 404
    client.post("/cases/", {"q": NAME})
    lines = json_lines()
    assert len([x for x in lines if x["logger"] == "vru.requests"]) >= 13
    text = json.dumps(lines)
    for secret in (NAME, "Tamsin", NHS_NUMBER, "officer@police.example"):
        assert secret not in text


def test_health_probes_are_logged_only_when_they_fail(client, json_lines):
    client.get("/healthz")
    client.get("/readyz")
    client.get("/metrics")  # no token: 404
    routes = [x["route"] for x in json_lines() if x["logger"] == "vru.requests"]
    assert routes == ["metrics"]
