"""Caching and headers: nothing with personal data may be stored by a browser or a cache; a strict
Content-Security-Policy (no inline script or style); person searches never put a name or an NHS
number in a URL; and query strings are kept out of access logs."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings

from cases import services as case_services
from partners.actor import actor_for_user
from tests import factories

pytestmark = pytest.mark.django_db

NHS = "9434765919"


@pytest.fixture
def case(officer, police, school, vru):
    case_services.agreement_create(
        name="Headers agreement", parties=[police, school, vru], review_date=date(2030, 1, 1)
    )
    actor = actor_for_user(officer, channel="ui")
    person = case_services.person_create(
        actor=actor,
        data={"given_name": "Jayden", "family_name": "Clarke", "date_of_birth": date(2010, 3, 14)},
        identifiers=[{"scheme": "nhs", "value": NHS}],
    )
    return case_services.case_create(actor=actor, subject=person, data={"summary": "Private"})


@pytest.fixture
def web(client, officer):
    client.force_login(officer)
    return client


# Cache-Control ---------------------------------------------------------------------------------


class TestNoStore:
    def test_api_responses_with_personal_data(self, api, officer, case):
        client = api(officer)
        for path in ["/api/v1/me", "/api/v1/people/", f"/api/v1/cases/{case.pk}"]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response["Cache-Control"] == "no-store", path

    def test_api_errors_and_writes(self, api, officer):
        client = api(officer)
        assert client.get("/api/v1/cases/not-a-case")["Cache-Control"] == "no-store"
        created = client.post(
            "/api/v1/people/", {"given_name": "Sam", "family_name": "Smith"}, format="json"
        )
        assert created.status_code == 201
        assert created["Cache-Control"] == "no-store"
        assert api().get("/api/v1/people/")["Cache-Control"] == "no-store"  # 401

    def test_pages_redirects_and_errors(self, web, case):
        for path in ["/", "/cases/", f"/cases/{case.pk}/", "/follow-ups/"]:
            response = web.get(path)
            assert response.status_code == 200, path
            assert response["Cache-Control"] == "no-store", path
        assert web.get("/no-such-page/")["Cache-Control"] == "no-store"
        assert Client().get("/cases/")["Cache-Control"] == "no-store"  # the sign-in redirect

    def test_a_view_cannot_ask_for_caching(self, web):
        # The keep-alive endpoint, like any view, cannot opt out.
        response = web.post("/session/keep-alive/")
        assert response["Cache-Control"] == "no-store"
        assert "Expires" not in response

    @override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
    def test_static_files_keep_their_caching(self):
        response = Client().get("/static/app/app.css")
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", "")
        assert "max-age" in response["Cache-Control"]


# Content-Security-Policy ------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


class TestContentSecurityPolicy:
    def test_pages_allow_only_their_own_scripts_and_styles(self, web, case):
        policy = _policy(web.get("/"))
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]

    def test_the_api_and_sign_in_carry_it_too(self, api, officer):
        assert "Content-Security-Policy" in api(officer).get("/api/v1/me")
        assert "Content-Security-Policy" in Client().get("/login/")

    @pytest.mark.parametrize(
        "path", ["/", "/cases/", "CASE", "/reports/", "/follow-ups/", "/referrals/new/"]
    )
    def test_pages_have_no_inline_script_or_style(self, web, case, coordinator, path):
        if path == "/reports/":
            web.force_login(coordinator)
        body = web.get(f"/cases/{case.pk}/" if path == "CASE" else path).content.decode()
        assert "<style" not in body
        assert " style=" not in body
        assert "<script>" not in body
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", body))
        assert " onclick=" not in body

    def test_the_sign_in_page_has_none_either(self, db):
        body = Client().get("/login/").content.decode()
        assert "<script>" not in body and "<style" not in body

    def test_the_api_docs_page_works_without_inline_script_or_style(self, client):
        response = client.get("/api/docs/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "<script>" not in body and "<style" not in body
        assert "?script=" in body or "&amp;script=" in body
        script = client.get("/api/docs/?script=")
        assert script.status_code == 200
        assert script["Content-Type"].startswith("application/javascript")
        assert "/api/schema/" in script.content.decode()


# Person searches stay out of URLs ---------------------------------------------------------------


class TestCaseSearch:
    def test_the_search_form_posts(self, web):
        body = web.get("/cases/").content.decode()
        assert 'method="post" action="/cases/"' in body
        assert "csrfmiddlewaretoken" in body

    @pytest.mark.parametrize("q", ["Clarke", NHS])
    def test_a_search_is_posted_and_its_results_named_by_a_token(self, web, case, q):
        response = web.post("/cases/", {"q": q})
        assert response.status_code == 302
        url = response["Location"]
        assert url.startswith("/cases/?search=")
        assert q not in url and "Clarke" not in url
        page = web.get(url).content.decode()
        assert case.reference in page
        assert f"found for ‘{q}’" in page

    def test_later_pages_keep_the_token_not_the_name(self, web, officer, case):
        actor = actor_for_user(officer, channel="ui")
        for n in range(26):
            person = case_services.person_create(
                actor=actor, data={"given_name": f"Sam{n}", "family_name": "Clarke"}
            )
            case_services.case_create(actor=actor, subject=person, data={"summary": "x"})
        url = web.post("/cases/", {"q": "Clarke"})["Location"]
        page = web.get(url).content.decode()
        token = url.split("search=")[1]
        assert f"?search={token}&amp;page=2" in page
        assert "q=Clarke" not in page

    def test_an_empty_search_lists_everything(self, web, case):
        assert web.post("/cases/", {"q": "  "})["Location"] == "/cases/"

    def test_a_token_from_another_session_finds_nothing(self, web, case, teacher):
        url = web.post("/cases/", {"q": "Clarke"})["Location"]
        other = Client()
        other.force_login(factories.make_user(case.lead_partner, "practitioner"))
        page = other.get(url).content.decode()
        assert "found for" not in page


# Access logs -------------------------------------------------------------------------------------


def _gunicorn_access_line(path_and_query: str, referer: str) -> str:
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", "-")
    gunicorn_log = Logger(config)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    gunicorn_log.access_log.addHandler(handler)
    try:
        environ = {
            "REQUEST_METHOD": "GET", "RAW_URI": path_and_query, "SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": path_and_query.split("?")[0], "QUERY_STRING": path_and_query.split("?")[1],
            "HTTP_REFERER": referer, "REMOTE_ADDR": "10.0.0.1",
        }  # fmt: skip
        response = SimpleNamespace(status="200 OK", headers=[], sent=10)
        gunicorn_log.access(response, SimpleNamespace(headers=[]), environ, timedelta(0))
    finally:
        gunicorn_log.access_log.removeHandler(handler)
    return lines[0]


class TestAccessLogs:
    def test_gunicorn_logs_no_query_strings(self):
        line = _gunicorn_access_line(
            f"/api/v1/people/?q=Jayden+Clarke&nhs={NHS}", f"https://vru.example/cases/?q={NHS}"
        )
        assert '"GET /api/v1/people/ HTTP/1.1" 200' in line
        assert "Jayden" not in line and NHS not in line
        assert "https://vru.example/cases/" in line

    def test_runserver_logs_no_query_strings(self):
        messages: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(record.getMessage())
        logger = logging.getLogger("django.server")
        logger.addHandler(handler)
        try:
            logger.info('"%s" %s %s', "GET /cases/?q=Jayden+Clarke HTTP/1.1", "200", "512")
        finally:
            logger.removeHandler(handler)
        assert messages == ['"GET /cases/ HTTP/1.1" 200 512']
