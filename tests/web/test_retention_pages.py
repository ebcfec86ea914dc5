"""The manager's retention queue, extending and deleting a case through the pages, and the
legal-hold control on the case page (and, for the partnership's auditors, the access-log page)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import retention
from cases import services as case_services
from cases.models import Case, LegalHold
from casework import services as casework_services
from partners.models import Role
from tests import factories
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_case(case, officer):
    """The police-led case shared with the school, closed, its retention period over."""
    closed = case_services.case_transition(
        actor=ui_actor(officer), case=case, to="closed", closure_reason="support_completed"
    )
    Case.objects.filter(pk=closed.pk).update(
        retention_until=timezone.localdate() - timedelta(days=2)
    )
    return Case.objects.get(pk=closed.pk)


@pytest.fixture
def school_entry(case, teacher):
    """Something the school wrote for its own eyes only."""
    return casework_services.entry_create(
        actor=ui_actor(teacher), case=case, kind="update", occurred_at=timezone.now(),
        body="School-only pastoral note", visibility="partner",
    )  # fmt: skip


class TestQueue:
    def test_the_manager_sees_their_partners_due_cases(self, login, sergeant, due_case):
        body = login(sergeant).get("/manager/retention/").content.decode()
        assert due_case.reference in body
        assert f"/cases/{due_case.pk}/retention/dispose/" in body
        assert "Jayden" not in body and "Seen with older youths" not in body
        assert AccessLog.objects.filter(
            action="list_retention_due", user=sergeant, object_id=str(due_case.pk)
        ).exists()
        assert 'href="/manager/retention/"' in login(sergeant).get("/").content.decode()

    @pytest.mark.parametrize("who", ["officer", "teacher", "auditor", "coordinator"])
    def test_it_is_for_managers_only(self, login, request, who, due_case):
        response = login(request.getfixturevalue(who)).get("/manager/retention/")
        assert response.status_code == 403
        assert due_case.reference not in response.content.decode()

    def test_another_partners_manager_sees_none_of_ours(self, login, school, due_case):
        head = factories.make_user(school, Role.MANAGER)
        body = login(head).get("/manager/retention/").content.decode()
        assert due_case.reference not in body
        assert "No closed cases are due" in body
        # Their own view of the decision pages: they can see the case, so 403 (not 404).
        assert login(head).get(f"/cases/{due_case.pk}/retention/dispose/").status_code == 403


class TestExtend:
    def test_a_reason_and_a_future_date_keep_it(self, login, sergeant, due_case):
        c = login(sergeant)
        until = timezone.localdate() + timedelta(days=365)
        form = {"until_day": until.day, "until_month": until.month, "until_year": until.year}
        missing = c.post(f"/cases/{due_case.pk}/retention/extend/", form)
        assert missing.status_code == 200
        assert "Say why the case must be kept longer" in missing.content.decode()
        response = c.post(
            f"/cases/{due_case.pk}/retention/extend/", {**form, "reason": "Civil claim"}
        )
        assert response.status_code == 302 and response.url == "/manager/retention/"
        due_case.refresh_from_db()
        assert due_case.retention_until == until
        assert (
            f"/cases/{due_case.pk}/retention/" not in c.get("/manager/retention/").content.decode()
        )


class TestDispose:
    def test_the_confirmation_names_what_goes_and_shows_no_other_partners_content(
        self, login, sergeant, due_case, school_entry
    ):
        body = login(sergeant).get(f"/cases/{due_case.pk}/retention/dispose/").content.decode()
        assert "1 chronology entries" in body or "1 chronology entr" in body
        assert "School-only pastoral note" not in body
        assert "Riverside School" in body  # told of the deletion
        assert "the record of the person the case is about" in body

    def test_confirming_deletes_it(self, login, sergeant, teacher, due_case):
        c = login(sergeant)
        unconfirmed = c.post(f"/cases/{due_case.pk}/retention/dispose/", {})
        assert unconfirmed.status_code == 200
        assert "Confirm that the case can be deleted" in unconfirmed.content.decode()
        assert Case.objects.filter(pk=due_case.pk).exists()
        response = c.post(f"/cases/{due_case.pk}/retention/dispose/", {"confirm": "on"})
        assert response.status_code == 302 and response.url == "/manager/retention/"
        assert not Case.objects.filter(pk=due_case.pk).exists()
        assert login(teacher).get(f"/cases/{due_case.pk}/").status_code == 404
        assert login(sergeant).get(f"/cases/{due_case.pk}/").status_code == 404

    def test_a_held_case_cannot_be_deleted(self, login, sergeant, due_case):
        retention.legal_hold_place(actor=ui_actor(sergeant), case=due_case, reason="Inquiry")
        c = login(sergeant)
        body = c.get(f"/cases/{due_case.pk}/retention/dispose/").content.decode()
        assert "under a legal hold" in body and "Inquiry" in body
        assert "Delete the case</button>" not in body
        response = c.post(f"/cases/{due_case.pk}/retention/dispose/", {"confirm": "on"})
        assert response.status_code == 200 and "legal hold" in response.content.decode()
        assert Case.objects.filter(pk=due_case.pk).exists()

    @pytest.mark.parametrize("page", ["extend", "dispose"])
    def test_others_get_403_or_the_same_404_as_a_missing_case(
        self, login, officer, outsider_partner, due_case, page
    ):
        assert login(officer).get(f"/cases/{due_case.pk}/retention/{page}/").status_code == 403
        stranger = login(factories.make_user(outsider_partner, Role.MANAGER))
        hidden = stranger.get(f"/cases/{due_case.pk}/retention/{page}/")
        missing = stranger.get(f"/cases/{'0' * 8}-0000-0000-0000-{'0' * 12}/retention/{page}/")
        assert hidden.status_code == missing.status_code == 404
        # CSRF tokens and the request's own id differ from one request to the next.
        strip = lambda r: re.sub(rb'value="[^"]{32,}"|[0-9a-f]{32}', b"", r.content)  # noqa: E731
        assert strip(hidden) == strip(missing)


class TestLegalHold:
    def test_the_manager_places_it_from_the_case_page_and_everyone_sees_the_warning(
        self, login, sergeant, teacher, case
    ):
        c = login(sergeant)
        page = c.get(f"/cases/{case.pk}/").content.decode()
        assert f'href="/cases/{case.pk}/legal-hold/"' in page and "Place legal hold" in page
        response = c.post(f"/cases/{case.pk}/legal-hold/", {"reason": "Civil claim lodged"})
        assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
        page = c.get(f"/cases/{case.pk}/").content.decode()
        assert "govuk-warning-text" in page and "under a legal hold" in page
        assert "Civil claim lodged" in page
        shared = login(teacher).get(f"/cases/{case.pk}/").content.decode()
        assert "under a legal hold" in shared
        assert "Civil claim lodged" not in shared and "/legal-hold/" not in shared
        assert login(teacher).get(f"/cases/{case.pk}/legal-hold/").status_code == 403
        c = login(sergeant)
        assert c.post(f"/cases/{case.pk}/legal-hold/").status_code == 302
        assert LegalHold.objects.get(case=case).lifted_at is not None

    def test_the_partnership_auditor_holds_from_the_access_log(self, login, auditor, case):
        c = login(auditor)
        log_page = c.get(f"/cases/{case.pk}/access-log/").content.decode()
        assert f"/cases/{case.pk}/legal-hold/" in log_page
        response = c.post(f"/cases/{case.pk}/legal-hold/", {"reason": "Coroner's request"})
        assert response.status_code == 302
        assert response.url == f"/cases/{case.pk}/access-log/"
        assert LegalHold.objects.get(case=case).placed_by == auditor
        assert c.get(f"/cases/{case.pk}/").status_code in (403, 404)  # still never reads it

    def test_outsiders_get_404(self, login, outsider, case):
        assert login(outsider).get(f"/cases/{case.pk}/legal-hold/").status_code == 404
        assert not LegalHold.objects.exists()
