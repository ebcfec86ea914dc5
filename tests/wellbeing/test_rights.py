"""Who sees and does what with a police officer's supervision check-in, for every kind of actor,
through the web pages and the services: its subject and their partner's managers, and nobody else.
To everyone else it does not exist (404), in lists and counts too."""

from __future__ import annotations

import pytest

from tests.wellbeing.conftest import actor, details
from wellbeing import access, selectors, services

pytestmark = pytest.mark.django_db

# actor → (read the check-in, sign it off, listed, open the officer's supervision page and record
# one for them there). "page": a manager's page, not part of the actor's role (403 before anything
# is looked up); the officer records their own on "My supervision".
TABLE = {
    "officer": (200, 403, True, "page"),  # its subject: reads it, never signs it off
    "sergeant": (200, 302, True, 200),  # a police manager: the supervisor
    "inspector": (200, 302, True, 200),  # another police manager: a supervisor too
    "colleague": (404, 404, False, "page"),  # police practitioner
    "police_auditor": (404, 404, False, "page"),
    "police_admin": (404, 404, False, "page"),
    "school_manager": (404, 404, False, 404),  # another partner's manager
    "auditor": (404, 404, False, "page"),  # the partnership's (VRU) auditor
    "coordinator": (404, 404, False, "page"),
}


@pytest.fixture
def record(officer, sergeant):
    return services.check_in_record(actor=actor(sergeant), subject=officer, data=details())


@pytest.mark.parametrize("who", list(TABLE))
def test_the_rights_table(who, request, client, record, officer):
    read, sign_off, listed, record_for = TABLE[who]
    user = request.getfixturevalue(who)
    me = actor(user)
    client.force_login(user)

    assert client.get(f"/supervision/check-ins/{record.pk}/").status_code == read

    # Lists and counts: the check-in is there for its subject and supervisors only.
    visible = access.check_ins_visible_to(me)
    assert visible.filter(pk=record.pk).exists() is listed
    assert visible.count() == (1 if listed else 0)
    assert [c.pk for c in selectors.check_in_list(actor=me, subject=officer)] == (
        [record.pk] if listed else []
    )
    # On the page where each reader finds it: the subject's own, a manager's page of them.
    own_page = client.get("/supervision/").content.decode()
    link = f"/supervision/check-ins/{record.pk}/"
    assert (link in own_page) is (user == officer)
    their_page = client.get(f"/manager/staff/{officer.pk}/")
    if record_for == 200:
        assert link in their_page.content.decode()
    else:
        assert their_page.status_code == (403 if record_for == "page" else 404)

    staff_page = client.get(f"/manager/staff/{officer.pk}/check-ins/new/")
    assert staff_page.status_code == (403 if record_for == "page" else record_for)

    response = client.post(f"/supervision/check-ins/{record.pk}/sign-off/")
    assert response.status_code == sign_off
    record.refresh_from_db()
    assert record.signed_off is (sign_off == 302)
    if sign_off == 403:
        assert "You cannot sign off your own check-in" in response.content.decode()
    if read == 404:
        # Nothing of it in the refusal either.
        body = response.content.decode()
        assert "Images" not in body and officer.get_full_name() not in body


def test_a_missing_check_in_looks_the_same_as_a_hidden_one(client, colleague):
    import uuid

    client.force_login(colleague)
    assert client.get(f"/supervision/check-ins/{uuid.uuid4()}/").status_code == 404


def test_another_partners_manager_cannot_open_the_officers_page(client, school_manager, officer):
    client.force_login(school_manager)
    assert client.get(f"/manager/staff/{officer.pk}/").status_code == 404
    assert client.get(f"/manager/staff/{officer.pk}/training/new/").status_code == 404
    staff = client.get("/manager/staff/").content.decode()
    assert officer.email not in staff


def test_refusals_are_logged_by_id(client, record, colleague):
    from audit.models import AccessLog

    client.force_login(colleague)
    client.get(f"/supervision/check-ins/{record.pk}/")
    [row] = AccessLog.objects.filter(action="view_check_in", allowed=False)
    assert row.object_id == str(record.pk) and row.user == colleague
