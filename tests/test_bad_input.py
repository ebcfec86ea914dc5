"""Bad input is a 400 (or a page asking again), never a 500.

- NUL characters anywhere in a request (path, query, headers, JSON keys and values, form fields):
  PostgreSQL cannot store them and psycopg fails wherever one reaches a query, so they are refused
  once, at the edge (core.middleware), in the API's error shape under /api/ and as a page elsewhere.
- The web "mark action done" post with a version that is not a number, no status or an unknown one.
- A programme intake schema with a remote or unresolvable `$ref`: refused when saved (API and
  admin), and a bad one already stored is a 409 for referrals, not a 500 (nor a fetch of the URL).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from partners.actor import actor_for_user

pytestmark = pytest.mark.django_db

NUL = "\x00"


def api_error(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


@pytest.fixture
def case(officer, agreement):
    actor = actor_for_user(officer, channel="ui")
    today = timezone.localdate()
    person = case_services.person_create(
        actor=actor,
        data={
            "given_name": "Tyler",
            "family_name": "Brooks",
            "date_of_birth": today.replace(year=today.year - 20, day=1),
        },
    )
    return case_services.case_create(actor=actor, subject=person, data={"summary": "Arrested"})


# NUL characters, at the edge ----------------------------------------------------------------------


class TestNulCharactersInTheApi:
    def test_it_refuses_one_in_the_path(self, api, officer):
        response = api(officer).put(
            "/api/v1/people/by-identifier/local/ab%00c",
            {"given_name": "Sam", "family_name": "Smith"},
            format="json",
        )
        assert api_error(response)["fields"] == {
            "path": ["Contains a character that is not allowed."]
        }

    def test_it_refuses_one_in_a_query_parameter(self, api, officer):
        assert "query" in api_error(api(officer).get("/api/v1/people/?q=Sam%00"))["fields"]

    def test_it_refuses_one_in_a_query_parameter_name(self, api, officer):
        assert api_error(api(officer).get("/api/v1/cases/?a%00b=1"))["code"] == "invalid"

    def test_it_refuses_one_in_a_json_value(self, api, officer):
        response = api(officer).post(
            "/api/v1/people/",
            {"given_name": f"Sam{NUL}", "family_name": "Smith"},
            format="json",
        )
        assert "body" in api_error(response)["fields"]

    def test_it_refuses_one_deep_in_a_json_body_and_in_a_key(self, api, officer, case):
        client = api(officer)
        nested = {"given_name": "Sam", "family_name": "Smith",
                  "identifiers": [{"scheme": "local", "value": f"x{NUL}"}]}  # fmt: skip
        assert api_error(client.post("/api/v1/people/", nested, format="json"))
        keyed = {"to": "open", f"reason{NUL}": "x"}
        assert api_error(client.post(f"/api/v1/cases/{case.pk}/transitions", keyed, format="json"))

    def test_it_refuses_a_lone_surrogate_in_json(self, api, officer, divert, case):
        # Not UTF-8 at all; DRF's CharField refuses it, but free-form JSON (intake details, kept
        # in a jsonb column) went on to PostgreSQL, which refuses it with a 500.
        details = '{"cohort": "custody", "custody_suite": "Central\\ud800"}'
        body = f'{{"person": "{case.subject_id}", "case": "{case.pk}", "details": {details}}}'
        response = api(officer).post(
            "/api/v1/programmes/divert/referrals", body, content_type="application/json"
        )
        assert api_error(response)["fields"] == {
            "body": ["Contains a character that is not allowed."]
        }

    def test_it_refuses_one_in_a_header_that_is_stored(self, api, officer):
        response = api(officer).post(
            "/api/v1/people/",
            {"given_name": "Sam", "family_name": "Smith"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"key{NUL}1",
        )
        assert "headers" in api_error(response)["fields"]

    def test_an_escaped_backslash_and_a_surrogate_pair_are_fine(self, api, officer):
        body = json.dumps({"given_name": "Sam \\u0000 😀", "family_name": "Smith"})
        response = api(officer).post("/api/v1/people/", body, content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["given_name"] == "Sam \\u0000 😀"

    def test_nothing_is_written(self, api, officer):
        from cases.models import Person

        api(officer).post(
            "/api/v1/people/", {"given_name": f"A{NUL}", "family_name": "B"}, format="json"
        )
        assert not Person.objects.exists()


class TestNulCharactersOnPages:
    def test_a_form_field_gets_a_400_page(self, client, officer):
        client.force_login(officer)
        response = client.post("/referrals/new/", {"given_name": f"Sam{NUL}", "family_name": "S"})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "Sorry, there is a problem with what was sent" in response.content.decode()

    def test_a_query_string_gets_a_400_page(self, client, sergeant):
        client.force_login(sergeant)
        response = client.get("/manager/caseload/?status=open%00")
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()

    def test_the_sign_in_page_too(self, client, db):
        response = client.post("/login/", {"username": f"a{NUL}@b.example", "password": "x"})
        assert response.status_code == 400


# A deeply nested JSON body ---------------------------------------------------------------------


def test_a_json_body_nested_too_deeply_to_parse_is_a_400(api, officer):
    body = "[" * 100_000 + "]" * 100_000
    response = api(officer).post("/api/v1/people/", body, content_type="application/json")
    assert api_error(response)["code"] == "parse_error"


# The web action-status post -------------------------------------------------------------------


class TestActionStatus:
    @pytest.fixture
    def action(self, officer, case):
        from casework import services

        return services.action_create(
            actor=actor_for_user(officer, channel="ui"), case=case, title="Call the school",
            due_date=timezone.localdate() + timedelta(days=7), owner_user=officer,
        )  # fmt: skip

    def post(self, client, officer, action, data):
        client.force_login(officer)
        return client.post(f"/actions/{action.pk}/status/", data)

    def test_a_version_that_is_not_a_number_asks_again(self, client, officer, action):
        response = self.post(client, officer, action, {"version": "abc", "status": "done"})
        assert response.status_code == 400
        body = response.content.decode()
        assert "This page was out of date" in body
        assert f'value="{action.version}"' in body  # the form now carries the current version
        action.refresh_from_db()
        assert action.status == "open"

    def test_a_missing_status_asks_for_one(self, client, officer, action):
        response = self.post(client, officer, action, {"version": action.version})
        assert response.status_code == 400
        assert "Select whether the action is done or cancelled" in response.content.decode()

    def test_an_unknown_status_asks_for_one(self, client, officer, action):
        for status in ("archived", "open"):
            data = {"version": action.version, "status": status}
            response = self.post(client, officer, action, data)
            assert response.status_code == 400, status
            assert "Select whether the action is done or cancelled" in response.content.decode()
        action.refresh_from_db()
        assert action.status == "open"

    def test_a_version_out_of_range_asks_again(self, client, officer, action):
        data = {"version": "99999999999999999999", "status": "done"}
        assert self.post(client, officer, action, data).status_code == 400

    def test_a_good_post_still_marks_it_done(self, client, officer, action):
        data = {"version": action.version, "status": "cancelled"}
        response = self.post(client, officer, action, data)
        assert response.status_code == 302
        action.refresh_from_db()
        assert action.status == "cancelled"


# Programme intake schemas ---------------------------------------------------------------------

REMOTE = {"type": "object", "properties": {"a": {"$ref": "https://example.invalid/s.json"}}}
NOWHERE = {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}
LOOP = {"type": "object", "allOf": [{"$ref": "#"}]}


@pytest.fixture
def divert(db, vru, coordinator):
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme

    install_standard_programmes(Programme)
    Programme.objects.filter(slug="divert").update(owner=vru)
    programme = Programme.objects.get(slug="divert")
    programme.coordinators.set([coordinator])
    return programme


class TestIntakeSchemas:
    def patch(self, api, who, body):
        client = api(who)
        etag = client.get("/api/v1/programmes/divert")["ETag"]
        return client.patch("/api/v1/programmes/divert", body, format="json", HTTP_IF_MATCH=etag)

    @pytest.mark.parametrize("schema", [REMOTE, NOWHERE, LOOP], ids=["remote", "nowhere", "loop"])
    def test_the_api_refuses_a_schema_with_an_unusable_ref(self, api, coordinator, divert, schema):
        error = api_error(self.patch(api, coordinator, {"intake_schema": schema}))
        assert any(key.startswith("intake_schema") for key in error["fields"]), error
        divert.refresh_from_db()
        assert divert.intake_schema != schema

    def test_the_api_refuses_a_schema_that_is_not_a_json_schema(self, api, coordinator, divert):
        schema = {"type": "object", "properties": {"a": {"type": "strin"}}}
        assert (
            "intake_schema"
            in api_error(self.patch(api, coordinator, {"intake_schema": schema}))["fields"]
        )

    def test_the_api_refuses_a_schema_nested_too_deeply_to_check(self, api, coordinator, divert):
        schema: dict = {"type": "string"}
        for _ in range(400):
            schema = {"not": schema}
        body = {"intake_schema": {"type": "object", "properties": {"a": schema}}}
        error = api_error(self.patch(api, coordinator, body))
        assert error["fields"] == {"intake_schema": ["Nested too deeply."]}

    def test_the_api_accepts_local_refs_that_resolve(self, api, coordinator, divert):
        schema = {
            "type": "object",
            "$defs": {"name": {"type": "string", "maxLength": 20}},
            "properties": {"coach": {"$ref": "#/$defs/name"}, "tree": {"$ref": "#"}},
        }
        response = self.patch(api, coordinator, {"intake_schema": schema})
        assert response.status_code == 200, response.content

    def test_a_nul_hidden_in_configuration_json_is_refused(self):
        # Escaped in JSON text, so only decoding finds it (as the admin's JSON fields do).
        from core.errors import ValidationFailed
        from programmes.config import validate_config

        with pytest.raises(ValidationFailed) as raised:
            validate_config({"milestones": [{"code": "a", "label": f"x{NUL}"}]})
        assert raised.value.fields == {
            "milestones": ["Contains a NUL character (U+0000) or an unpaired surrogate."]
        }

    @pytest.mark.parametrize("schema", [REMOTE, NOWHERE], ids=["remote", "nowhere"])
    def test_the_admin_refuses_it_too(self, divert, schema):
        from programmes.admin import ProgrammeForm

        data = {
            "slug": divert.slug, "name": divert.name, "description": divert.description,
            "owner": divert.owner_id, "coordinators": [], "capacity": divert.capacity,
            "duration_days": divert.duration_days or "", "active": "on",
            "eligibility": json.dumps(divert.eligibility), "intake_schema": json.dumps(schema),
            "followup_schedule": json.dumps(divert.followup_schedule),
            "milestones": json.dumps(divert.milestones), "outcomes": json.dumps(divert.outcomes),
            "session_kinds": json.dumps(divert.session_kinds),
        }  # fmt: skip
        form = ProgrammeForm(data, instance=divert)
        assert not form.is_valid()
        assert "intake_schema" in form.errors

    @pytest.mark.parametrize(
        "schema", [REMOTE, NOWHERE, LOOP, "not a schema"], ids=["remote", "nowhere", "loop", "str"]
    )
    def test_a_bad_schema_already_stored_is_a_409_for_referrals(
        self, api, officer, divert, case, schema, monkeypatch
    ):
        import urllib.request

        from programmes.models import Programme

        def no_network(*args, **kwargs):
            raise AssertionError("the intake schema's $ref was fetched")

        monkeypatch.setattr(urllib.request, "urlopen", no_network)
        Programme.objects.filter(pk=divert.pk).update(intake_schema=schema)
        response = api(officer).post(
            "/api/v1/programmes/divert/referrals",
            {"person": str(case.subject_id), "case": str(case.pk), "details": {"a": "x"}},
            format="json",
        )
        assert api_error(response, 409)["code"] == "intake_schema_invalid"
