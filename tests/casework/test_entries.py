"""Chronology entries: per-entry visibility everywhere an entry can surface, and corrections that
keep the original."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from casework.access import entries_visible_to
from casework.models import ChronologyEntry, EntryAmendment
from core.models import Change
from followups.models import Notification
from tests import factories
from tests.casework.conftest import ago, logged
from tests.factories import actor

PERSONAS = ["officer", "sergeant", "teacher", "coordinator", "outsider", "auditor"]
# Who sees an entry the officer (police, lead) wrote, by visibility. `named` names the teacher.
SEES = {
    "case": {"officer", "sergeant", "teacher", "coordinator"},
    "partner": {"officer", "sergeant"},
    "named": {"officer", "teacher"},
}


@pytest.fixture
def personas(officer, sergeant, teacher, coordinator, outsider, auditor):
    return {
        "officer": officer, "sergeant": sergeant, "teacher": teacher,
        "coordinator": coordinator, "outsider": outsider, "auditor": auditor,
    }  # fmt: skip


@pytest.fixture
def entries(case, make_entry, teacher):
    return {
        "case": make_entry(case, body="case-wide alpha"),
        "partner": make_entry(case, visibility="partner", body="police-only alpha"),
        "named": make_entry(case, visibility="named", named=[teacher], body="named alpha"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("visibility", ["case", "partner", "named"])
class TestVisibilityMatrix:
    def test_detail(self, api, personas, entries, persona, visibility):
        user, entry = personas[persona], entries[visibility]
        response = api(user).get(f"/api/v1/entries/{entry.id}")
        if persona in SEES[visibility]:
            assert response.status_code == 200, response.content
            assert response.json()["body"] == entry.body
            assert response["ETag"] == '"1"'
            row = logged(user, action="view", object_type="entry").get(object_id=str(entry.id))
            assert row.case_id == entry.case_id and row.justification
        else:
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
            assert (
                logged(user, action="view", object_type="entry", allowed=False)
                .filter(object_id=str(entry.id))
                .exists()
            )

    def test_case_list(self, api, personas, entries, case, persona, visibility):
        user, entry = personas[persona], entries[visibility]
        response = api(user).get(f"/api/v1/cases/{case.id}/entries")
        if persona in ("outsider", "auditor"):
            assert response.status_code == 404
            return
        ids = {e["id"] for e in response.json()["results"]}
        assert (str(entry.id) in ids) is (persona in SEES[visibility])
        listed = set(
            logged(user, action="list", object_type="entry").values_list("object_id", flat=True)
        )
        assert listed == ids

    def test_search(self, api, personas, entries, persona, visibility):
        user, entry = personas[persona], entries[visibility]
        response = api(user).get("/api/v1/entries/", {"q": "alpha"})
        assert response.status_code == 200
        ids = {e["id"] for e in response.json()["results"]}
        assert (str(entry.id) in ids) is (persona in SEES[visibility])
        assert (
            set(
                logged(user, action="search", object_type="entry").values_list(
                    "object_id", flat=True
                )
            )
            == ids
        )

    def test_selector(self, personas, entries, persona, visibility):
        visible = entries_visible_to(actor(personas[persona]))
        assert visible.filter(pk=entries[visibility].pk).exists() is (persona in SEES[visibility])


@pytest.mark.django_db
class TestPartnerSystems:
    def test_a_partner_system_sees_case_and_own_partner_entries_never_named(
        self, api, entries, police, school
    ):
        police_ids = {
            e["id"]
            for e in api(factories.client_token(police)).get("/api/v1/entries/").json()["results"]
        }
        assert police_ids == {str(entries["case"].id), str(entries["partner"].id)}
        school_ids = {
            e["id"]
            for e in api(factories.client_token(school)).get("/api/v1/entries/").json()["results"]
        }
        assert school_ids == {str(entries["case"].id)}

    def test_a_named_user_loses_the_entry_when_their_partner_loses_the_case(
        self, api, entries, case, officer, teacher, school
    ):
        from cases import services as case_services

        case_services.share_revoke(actor=actor(officer), case=case, partner=school)
        assert api(teacher).get(f"/api/v1/entries/{entries['named'].id}").status_code == 404


@pytest.mark.django_db
class TestCreate:
    def test_it_creates_a_case_entry_and_logs_it(self, api, case, teacher):
        response = api(teacher).post(
            f"/api/v1/cases/{case.id}/entries",
            {"kind": "visit", "occurred_at": ago(hours=1).isoformat(), "body": "Home visit."},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["partner"] == "school" and body["author"] == str(teacher.id)
        assert body["visibility"] == "case" and body["amendments"] == []
        assert logged(teacher, action="create", object_type="entry").get().case_id == case.id
        assert Change.objects.filter(resource="entry", object_id=body["id"]).exists()

    def test_named_entries_name_people_on_the_case_and_tell_them_without_content(
        self, api, case, officer, teacher
    ):
        response = api(officer).post(
            f"/api/v1/cases/{case.id}/entries",
            {"kind": "disclosure", "occurred_at": ago(hours=1).isoformat(), "body": "Private words.",
             "visibility": "named", "named_users": [str(teacher.id)]},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        assert response.json()["named_users"] == [str(teacher.id)]
        notice = Notification.objects.get(recipient=teacher, kind="entry_named")
        assert "Private" not in notice.title and "Jayden" not in notice.title

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"visibility": "named"}, "named_users"),
            ({"visibility": "case", "named_users": ["TEACHER"]}, "named_users"),
            ({"visibility": "named", "named_users": ["OUTSIDER"]}, "named_users"),
            ({"kind": "gossip"}, "kind"),
            ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
            ({"body": "   "}, "body"),
        ],
    )
    def test_it_rejects_bad_input(self, api, case, officer, teacher, outsider, payload, field):
        ids = {"TEACHER": str(teacher.id), "OUTSIDER": str(outsider.id)}
        payload = {
            k: [ids.get(x, x) for x in v] if isinstance(v, list) else v for k, v in payload.items()
        }
        data = {"kind": "contact", "occurred_at": ago(hours=1).isoformat(), "body": "x", **payload}
        response = api(officer).post(f"/api/v1/cases/{case.id}/entries", data, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]

    @pytest.mark.parametrize(
        "persona, status",
        [
            ("officer", 201), ("sergeant", 201), ("teacher", 201), ("coordinator", 403),
            ("outsider", 404), ("auditor", 404),
        ],
    )  # fmt: skip
    def test_who_may_add_an_entry(self, api, case, personas, persona, status):
        user = personas[persona]
        response = api(user).post(
            f"/api/v1/cases/{case.id}/entries",
            {"kind": "contact", "occurred_at": ago(hours=1).isoformat(), "body": "x"},
            format="json",
        )
        assert response.status_code == status
        assert ChronologyEntry.objects.exists() is (status == 201)
        if status == 404:
            assert logged(user, allowed=False, object_type="case").exists()


@pytest.mark.django_db
class TestAmendments:
    def amend(self, api, user, entry, etag='"1"', **data):
        headers = {"HTTP_IF_MATCH": etag} if etag else {}
        return api(user).patch(f"/api/v1/entries/{entry.id}", data, format="json", **headers)

    def test_a_correction_keeps_the_original_and_says_who(self, api, case, make_entry, officer):
        entry = make_entry(case, body="Seen at the prak.")
        response = self.amend(api, officer, entry, body="Seen at the park.", reason="typo")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["body"] == "Seen at the park." and body["amended"] and response["ETag"] == '"2"'
        [amendment] = body["amendments"]
        assert amendment["previous"] == {"body": "Seen at the prak."}
        assert amendment["changes"] == {"body": "Seen at the park."}
        assert amendment["amended_by"] == str(officer.id) and amendment["reason"] == "typo"
        history = api(officer).get(f"/api/v1/entries/{entry.id}/amendments").json()["results"]
        assert history[0]["previous"]["body"] == "Seen at the prak."
        assert logged(officer, action="amend", object_type="entry").exists()

    def test_if_match_is_required_and_checked(self, api, case, make_entry, officer):
        entry = make_entry(case)
        assert self.amend(api, officer, entry, etag=None, body="b", reason="r").status_code == 428
        assert self.amend(api, officer, entry, etag='"7"', body="b", reason="r").status_code == 412
        assert not EntryAmendment.objects.exists()

    def test_a_reason_is_required(self, api, case, make_entry, officer):
        response = self.amend(api, officer, make_entry(case), body="b")
        assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]

    def test_only_the_author_or_their_managers_correct(
        self, api, case, make_entry, officer, sergeant, teacher
    ):
        entry = make_entry(case)
        assert self.amend(api, teacher, entry, body="b", reason="r").status_code == 403
        assert self.amend(api, sergeant, entry, body="b", reason="manager").status_code == 200
        assert logged(teacher, action="amend", allowed=False).exists()

    def test_narrowing_visibility_hides_it_and_tells_the_feed(
        self, api, case, make_entry, officer, teacher, school
    ):
        entry = make_entry(case)
        response = self.amend(api, officer, entry, visibility="partner", reason="shared in error")
        assert response.status_code == 200
        assert api(teacher).get(f"/api/v1/entries/{entry.id}").status_code == 404
        assert Change.objects.filter(
            resource="entry", object_id=entry.id, action="revoked", audience_partner=school
        ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 5, 20])
def test_list_queries_are_constant(
    api, case, make_entry, officer, teacher, page_size, django_assert_max_num_queries
):
    for n in range(12):
        make_entry(
            case,
            visibility="named" if n % 3 == 0 else "case",
            named=[teacher] if n % 3 == 0 else (),
        )
    entry = ChronologyEntry.objects.first()
    from casework import services

    services.entry_amend(
        actor=actor(officer), entry=entry, expected_version=1, reason="r", data={"body": "new"}
    )
    client = api(teacher)
    with django_assert_max_num_queries(14):
        response = client.get(f"/api/v1/cases/{case.id}/entries", {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(page_size, 12)
    with django_assert_max_num_queries(14):
        assert (
            client.get("/api/v1/entries/", {"page_size": page_size, "q": "Seen"}).status_code == 200
        )


@pytest.mark.django_db
def test_updated_since_and_pagination(api, case, make_entry, officer):
    for _ in range(3):
        make_entry(case)
    client = api(officer)
    first = client.get(f"/api/v1/cases/{case.id}/entries", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    future = client.get(
        f"/api/v1/cases/{case.id}/entries", {"updated_since": "2999-01-01T00:00:00Z"}
    )
    assert future.json()["results"] == []
    assert AccessLog.objects.filter(user=officer, action="list").count() == 3
