"""An entry's history is shown only to those who could see each version of it.

Widening an entry from `partner` to `case` shows the new text to every partner on the case, but
not what it said while it was the police's alone: not in GET /entries/{id}, nor /amendments, nor
the case's chronology, nor the web case page. An amendment shows the version it replaced and the
one it became, so it is shown to those who could see both, by the same rule as the entry itself.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from casework import services
from casework.access import (
    amendment_visibility_condition,
    entry_visibility_condition,
)
from casework.models import ChronologyEntry, EntryAmendment
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

SECRET = "Informant says the uncle keeps a knife at the flat."
NOW_SHARED = "Concerns about weapons at home; police following up."


def amend(entry, user, reason="widened", **data):
    entry.refresh_from_db()
    return services.entry_amend(
        actor=actor(user), entry=entry, expected_version=entry.version, reason=reason, data=data
    )


@pytest.fixture
def widened(case, make_entry, officer):
    """Police-only at first, then corrected and shared with everyone on the case."""
    entry = make_entry(case, visibility="partner", body=SECRET)
    return amend(entry, officer, visibility="case", body=NOW_SHARED)


class TestWidening:
    def test_other_partners_see_the_entry_but_not_its_partner_only_past(
        self, api, teacher, widened, case
    ):
        client = api(teacher)
        detail = client.get(f"/api/v1/entries/{widened.pk}")
        assert detail.status_code == 200 and detail.json()["body"] == NOW_SHARED
        assert detail.json()["amendments"] == []
        history = client.get(f"/api/v1/entries/{widened.pk}/amendments")
        assert history.status_code == 200 and history.json()["results"] == []
        listed = client.get(f"/api/v1/cases/{case.pk}/entries").json()["results"]
        assert [e["amendments"] for e in listed if e["id"] == str(widened.pk)] == [[]]
        searched = client.get("/api/v1/entries/", {"q": "weapons"}).json()["results"]
        assert SECRET not in str(searched) and searched
        for response in (detail, history):
            assert SECRET not in response.content.decode()

    def test_the_web_case_page_keeps_it_too(self, client, teacher, officer, widened, case):
        client.force_login(teacher)
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert NOW_SHARED in page and SECRET not in page and "said before" not in page
        client.force_login(officer)
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert SECRET in page

    def test_the_author_and_their_partner_still_see_it(self, api, officer, sergeant, widened):
        for user in (officer, sergeant):
            [amendment] = (
                api(user).get(f"/api/v1/entries/{widened.pk}/amendments").json()["results"]
            )
            assert amendment["previous"]["body"] == SECRET

    def test_a_version_between_two_shared_ones_is_not_shown_either(
        self, api, case, make_entry, officer, teacher
    ):
        entry = make_entry(case, body="Seen at the park.")
        amend(entry, officer, visibility="partner", body=SECRET)
        amend(entry, officer, visibility="case", body=NOW_SHARED)
        # Version 1 was shared, but the amendment from it shows what version 2 (police only) said.
        assert api(teacher).get(f"/api/v1/entries/{entry.pk}/amendments").json()["results"] == []
        assert (
            len(api(officer).get(f"/api/v1/entries/{entry.pk}/amendments").json()["results"]) == 2
        )

    def test_corrections_of_a_shared_entry_are_shown_to_everyone_on_the_case(
        self, api, case, make_entry, officer, teacher
    ):
        entry = make_entry(case, body="Seen at the prak.")
        amend(entry, officer, body="Seen at the park.", reason="typo")
        [amendment] = api(teacher).get(f"/api/v1/entries/{entry.pk}/amendments").json()["results"]
        assert amendment["previous"] == {"body": "Seen at the prak."}

    def test_a_named_past_is_shown_only_to_who_was_named(
        self, api, case, make_entry, officer, teacher, school
    ):
        colleague = factories.make_user(school, "practitioner")
        entry = make_entry(case, visibility="named", named=[teacher], body=SECRET)
        amend(entry, officer, visibility="case", body=NOW_SHARED)
        assert api(colleague).get(f"/api/v1/entries/{entry.pk}").status_code == 200
        assert api(colleague).get(f"/api/v1/entries/{entry.pk}/amendments").json()["results"] == []
        [amendment] = api(teacher).get(f"/api/v1/entries/{entry.pk}/amendments").json()["results"]
        assert amendment["previous"]["body"] == SECRET


PERSONAS = ["officer", "sergeant", "teacher", "coordinator", "outsider"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("visibility", ["case", "partner", "named"])
def test_a_version_is_seen_by_the_same_rule_as_an_entry(
    case, make_entry, officer, sergeant, teacher, coordinator, outsider, persona, visibility
):
    user = locals()[persona]
    entry = make_entry(
        case, visibility=visibility, named=[teacher] if visibility == "named" else ()
    )
    amend(entry, officer, body="corrected", reason="typo")  # the replaced version: same visibility
    who = actor(user)
    sees_entry = ChronologyEntry.objects.filter(entry_visibility_condition(who), pk=entry.pk)
    sees_version = EntryAmendment.objects.filter(amendment_visibility_condition(who), entry=entry)
    assert sees_version.exists() is sees_entry.exists()


def test_existing_amendments_are_filled_in_from_the_entrys_history(
    case, make_entry, officer, teacher
):
    named = make_entry(case, visibility="named", named=[teacher], body="one")
    amend(named, officer, visibility="partner", body="two")
    amend(named, officer, visibility="case", body="three")
    plain = make_entry(case, visibility="partner", body="x")
    amend(plain, officer, body="y")
    expected = {
        a.pk: (
            a.previous_visibility,
            a.previous_partner_id,
            {u.pk for u in a.previous_named_users.all()},
        )
        for a in EntryAmendment.objects.all()
    }
    assert sorted(v[0] for v in expected.values()) == ["named", "partner", "partner"]
    # As the rows were before the migration: nothing recorded.
    EntryAmendment.objects.update(previous_visibility="named")
    for a in EntryAmendment.objects.all():
        a.previous_named_users.clear()
    migration = importlib.import_module("casework.migrations.0002_entry_amendment_visibility")

    class Editor:
        def __init__(self):
            self.connection = connection

        def execute(self, sql, params=None):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    migration.backfill(apps, Editor())
    assert {
        a.pk: (
            a.previous_visibility,
            a.previous_partner_id,
            {u.pk for u in a.previous_named_users.all()},
        )
        for a in EntryAmendment.objects.all()
    } == expected
