"""Break-glass: a practitioner's reasoned, time-limited, logged and notified access to a case not
shared with their partner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases.models import BreakGlassAccess, Case, CaseUserObjectPermission
from followups.models import Notification
from tests import factories
from tests.casework.conftest import logged

REASON = "Child presented at A&E out of hours; need safeguarding history now."


def open_glass(api, user, case, reason=REASON):
    return api(user).post(f"/api/v1/cases/{case.id}/break-glass", {"reason": reason}, format="json")


@pytest.fixture
def unshared(make_case):
    return make_case(summary="Police-only case")


@pytest.mark.django_db
class TestBreakGlass:
    def test_it_grants_time_limited_access_logs_the_reason_and_tells_the_lead_managers(
        self, api, unshared, outsider, sergeant, officer, settings
    ):
        settings.BREAK_GLASS_HOURS = 6
        assert api(outsider).get(f"/api/v1/cases/{unshared.id}").status_code == 404
        response = open_glass(api, outsider, unshared)
        assert response.status_code == 201, response.content
        grant = BreakGlassAccess.objects.get(case=unshared, user=outsider)
        assert grant.reason == REASON
        assert (
            timedelta(hours=5, minutes=59) < grant.expires_at - timezone.now() <= timedelta(hours=6)
        )
        row = logged(outsider, action="break_glass").get()
        assert row.detail["reason"] == REASON and row.case_id == unshared.id
        notice = Notification.objects.get(recipient=sergeant, kind="break_glass")
        assert unshared.reference not in notice.title and "Jayden" not in notice.title
        assert not Notification.objects.filter(recipient=officer, kind="break_glass").exists()

        detail = api(outsider).get(f"/api/v1/cases/{unshared.id}")
        assert detail.status_code == 200
        view = AccessLog.objects.filter(user=outsider, action="view", object_type="case").latest(
            "id"
        )
        assert view.justification == "break-glass access"

    def test_it_expires(self, api, unshared, outsider):
        assert open_glass(api, outsider, unshared).status_code == 201
        past = timezone.now() - timedelta(minutes=1)
        BreakGlassAccess.objects.filter(case=unshared).update(expires_at=past)
        CaseUserObjectPermission.objects.filter(content_object=unshared, user=outsider).update(
            expires_at=past
        )
        assert api(outsider).get(f"/api/v1/cases/{unshared.id}").status_code == 404
        assert api(outsider).get(f"/api/v1/cases/{unshared.id}/entries").status_code == 404

    def test_it_reads_case_wide_entries_only_and_cannot_add(
        self, api, unshared, make_entry, outsider
    ):
        shared = make_entry(unshared, body="case-wide")
        make_entry(unshared, visibility="partner", body="police only")
        open_glass(api, outsider, unshared)
        listed = api(outsider).get(f"/api/v1/cases/{unshared.id}/entries").json()["results"]
        assert [e["id"] for e in listed] == [str(shared.id)]
        row = logged(outsider, action="list", object_type="entry").get()
        assert row.justification == "break-glass access"
        response = api(outsider).post(
            f"/api/v1/cases/{unshared.id}/entries",
            {"kind": "contact", "occurred_at": timezone.now().isoformat(), "body": "x"},
            format="json",
        )
        assert response.status_code == 403
        assert logged(outsider, action="add_entry", allowed=False).exists()

    def test_restricted_cases_are_refused_as_not_found(self, api, unshared, outsider):
        Case.objects.filter(pk=unshared.pk).update(restricted=True)
        response = open_glass(api, outsider, unshared)
        assert response.status_code == 404
        assert not BreakGlassAccess.objects.exists()
        assert (
            logged(outsider, action="break_glass", allowed=False).get().justification
            == "restricted"
        )

    def test_a_missing_case_is_404(self, api, outsider):
        response = api(outsider).post(
            "/api/v1/cases/00000000-0000-0000-0000-000000000000/break-glass",
            {"reason": REASON},
            format="json",
        )
        assert response.status_code == 404

    @pytest.mark.parametrize("reason", ["", "   ", "because"])
    def test_a_reason_is_mandatory(self, api, unshared, outsider, reason):
        response = open_glass(api, outsider, unshared, reason=reason)
        assert response.status_code == 400
        assert not BreakGlassAccess.objects.exists()

    @pytest.mark.parametrize("role", ["manager", "coordinator", "auditor", "admin"])
    def test_only_practitioners_break_glass(self, api, unshared, outsider_partner, role):
        user = factories.make_user(outsider_partner, role)
        assert open_glass(api, user, unshared).status_code == 403
        assert logged(user, action="break_glass", allowed=False).exists()

    def test_partner_systems_cannot_break_glass(self, api, unshared, outsider_partner):
        token = factories.client_token(outsider_partner)
        assert open_glass(api, token, unshared).status_code == 403

    def test_someone_who_can_already_see_it_gets_409(self, api, case, teacher):
        assert open_glass(api, teacher, case).status_code == 409
