"""Correcting a chronology entry (the original kept and shown) and changing an action's owner or
due date, both only if nobody else has changed it since it was read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from casework import services
from casework.models import Action, ChronologyEntry, EntryAmendment
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(officer, case):
    return services.entry_create(
        actor=ui_actor(officer), case=case, kind="visit",
        occurred_at=timezone.now() - timedelta(days=1), body="Visited at home. Mum present.",
        visibility="case",
    )  # fmt: skip


def _correction(entry, **changes):
    local = timezone.localtime(entry.occurred_at)
    data = {
        "version": entry.version, "kind": entry.kind, "occurred_on_day": local.day,
        "occurred_on_month": local.month, "occurred_on_year": local.year,
        "occurred_time": local.strftime("%H:%M"), "body": entry.body, "reason": "Wrong person",
    }  # fmt: skip
    data.update(changes)
    return data


class TestEntryCorrection:
    def test_the_author_corrects_it_and_everyone_sees_what_it_said_before(
        self, login, officer, teacher, case, entry
    ):
        c = login(officer)
        url = f"/entries/{entry.pk}/correct/"
        assert "Visited at home. Mum present." in c.get(url).content.decode()
        response = c.post(url, _correction(entry, body="Visited at home. Nan present."))
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.body == "Visited at home. Nan present." and entry.version == 2
        amendment = EntryAmendment.objects.get()
        assert amendment.previous == {"body": "Visited at home. Mum present."}
        assert amendment.amended_by == officer and amendment.reason == "Wrong person"
        assert AccessLog.objects.filter(user=officer, action="amend", object_type="entry").exists()
        page = login(teacher).get(f"/cases/{case.pk}/").content.decode()
        assert "Visited at home. Nan present." in page
        assert "What this entry said before" in page and "Mum present" in page
        assert "Reason: Wrong person" in page and officer.get_full_name() in page
        assert "Correct this entry" not in page  # the school did not write it

    def test_a_stale_correction_saves_nothing(self, login, officer, entry):
        read = _correction(entry, body="My version")
        services.entry_amend(
            actor=ui_actor(officer), entry=entry, expected_version=entry.version,
            reason="Typo", data={"body": "Their version"},
        )  # fmt: skip
        body = login(officer).post(f"/entries/{entry.pk}/correct/", read).content.decode()
        assert "Someone else corrected this entry" in body and "Nothing you entered" in body
        assert ChronologyEntry.objects.get().body == "Their version"

    def test_a_reason_is_needed_and_nothing_unchanged_is_saved(self, login, officer, entry):
        c = login(officer)
        body = c.post(f"/entries/{entry.pk}/correct/", _correction(entry, reason="")).content
        assert b"Say why you are correcting the entry" in body
        body = c.post(f"/entries/{entry.pk}/correct/", _correction(entry)).content.decode()
        assert "Nothing to correct" in body
        assert not EntryAmendment.objects.exists()

    def test_others_cannot_correct_it_and_outsiders_cannot_find_it(
        self, login, teacher, outsider, entry
    ):
        url = f"/entries/{entry.pk}/correct/"
        assert login(teacher).get(url).status_code == 403
        assert login(teacher).post(url, _correction(entry, body="x")).status_code == 403
        assert login(outsider).get(url).status_code == 404
        assert AccessLog.objects.filter(user=outsider, allowed=False, object_id=str(entry.pk))
        assert not EntryAmendment.objects.exists()


@pytest.fixture
def action(officer, case):
    return services.action_create(
        actor=ui_actor(officer), case=case, title="Call the school",
        due_date=timezone.localdate() + timedelta(days=3), owner_user=officer,
    )  # fmt: skip


def _change(action, owner, due):
    return {
        "version": action.version, "owner": owner, "due_date_day": due.day,
        "due_date_month": due.month, "due_date_year": due.year,
    }  # fmt: skip


class TestActionChange:
    def test_it_reassigns_to_a_person_or_a_partner_and_moves_the_date(
        self, login, officer, teacher, case, action, school
    ):
        c = login(officer)
        url = f"/actions/{action.pk}/change/"
        page = c.get(url).content.decode()
        assert "Anyone at Riverside School" in page and "selected" in page
        later = timezone.localdate() + timedelta(days=10)
        response = c.post(url, _change(action, f"user:{teacher.pk}", later))
        assert response.status_code == 302
        action.refresh_from_db()
        assert action.owner_user == teacher and action.owner_partner == school
        assert action.due_date == later
        assert AccessLog.objects.filter(user=officer, action="update", object_type="action")
        c.post(url, _change(action, "partner:school", later))
        action.refresh_from_db()
        assert action.owner_user is None and action.owner_partner == school
        assert "Reassign or change date" in c.get(f"/cases/{case.pk}/").content.decode()

    def test_a_stale_change_saves_nothing(self, login, officer, teacher, action):
        read = _change(action, f"user:{teacher.pk}", action.due_date)
        services.action_update(
            actor=ui_actor(officer), action=action, expected_version=action.version,
            data={"title": "Call the school office"},
        )  # fmt: skip
        body = login(officer).post(f"/actions/{action.pk}/change/", read).content.decode()
        assert "Someone else changed this action" in body
        assert Action.objects.get().owner_user == officer

    def test_a_past_due_date_is_refused(self, login, officer, action):
        past = timezone.localdate() - timedelta(days=2)
        body = (
            login(officer)
            .post(f"/actions/{action.pk}/change/", _change(action, f"user:{officer.pk}", past))
            .content.decode()
        )
        assert "must be today or in the future" in body

    def test_who_may_change_it(self, login, teacher, outsider, action):
        url = f"/actions/{action.pk}/change/"
        assert login(teacher).get(url).status_code == 403  # the school neither leads nor set it
        assert login(outsider).get(url).status_code == 404
