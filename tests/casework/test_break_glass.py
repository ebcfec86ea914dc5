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
def emergency_agreement(police, outsider_partner):
    """Break-glass relies on an agreement between the user's partner and the case's lead."""
    from datetime import date

    from cases import services as case_services

    return case_services.agreement_create(
        name="Northshire emergency ISA", parties=[police, outsider_partner],
        review_date=date(2030, 6, 30),
    )  # fmt: skip


@pytest.fixture
def unshared(make_case, emergency_agreement):
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
        # The reason is kept on the grant, not copied into the access log (no content there).
        assert row.case_id == unshared.id and REASON not in str(row.detail)
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


@pytest.mark.django_db
class TestBreakGlassNeedsAnAgreementAndApproval:
    """Break-glass relies on a data sharing agreement; a second use in a day needs a manager."""

    def test_it_is_refused_without_an_agreement_between_the_partners(
        self, api, make_case, outsider
    ):
        case = make_case(summary="Police-only case")  # no agreement with the outsider's partner
        response = open_glass(api, outsider, case)
        assert response.status_code == 403
        assert "data sharing agreement" in response.json()["error"]["message"]
        assert not BreakGlassAccess.objects.exists()
        assert api(outsider).get(f"/api/v1/cases/{case.id}").status_code == 404
        assert logged(outsider, action="break_glass", allowed=False).exists()

    def test_an_ended_agreement_does_not_count(self, api, make_case, outsider, emergency_agreement):
        emergency_agreement.status = "ended"
        emergency_agreement.save()
        case = make_case(summary="Police-only case")
        assert open_glass(api, outsider, case).status_code == 403

    def test_every_use_tells_the_users_own_managers_too(
        self, api, unshared, outsider, outsider_partner, sergeant
    ):
        own_manager = factories.make_user(outsider_partner, "manager")
        assert open_glass(api, outsider, unshared).status_code == 201
        assert Notification.objects.filter(recipient=sergeant, kind="break_glass").exists()
        assert Notification.objects.filter(recipient=own_manager, kind="break_glass").exists()

    def test_a_second_use_within_a_day_waits_for_a_managers_approval(
        self, api, make_case, outsider, outsider_partner, emergency_agreement
    ):
        own_manager = factories.make_user(outsider_partner, "manager")
        first, second = make_case(summary="one"), make_case(summary="two")
        assert open_glass(api, outsider, first).status_code == 201
        response = open_glass(api, outsider, second)
        assert response.status_code == 202
        assert response.json()["status"] == "pending" and response.json()["expires_at"] is None
        # Nothing is open until a manager approves.
        assert api(outsider).get(f"/api/v1/cases/{second.id}").status_code == 404
        assert Notification.objects.filter(
            recipient=own_manager, kind="break_glass_approval"
        ).exists()
        request_id = response.json()["id"]
        # The requester cannot approve themselves, nor can another partner's manager.
        decide = f"/api/v1/break-glass/{request_id}/decision"
        assert api(outsider).post(decide, {"decision": "approve"}, format="json").status_code in (
            403,
            404,
        )
        other_manager = factories.make_user(factories.make_partner("other"), "manager")
        assert (
            api(other_manager).post(decide, {"decision": "approve"}, format="json").status_code
            == 404
        )
        approved = api(own_manager).post(decide, {"decision": "approve"}, format="json")
        assert approved.status_code == 200, approved.content
        assert approved.json()["status"] == "open"
        assert api(outsider).get(f"/api/v1/cases/{second.id}").status_code == 200
        again = api(own_manager).post(decide, {"decision": "approve"}, format="json")
        assert again.status_code == 404  # no longer pending

    def test_a_refusal_needs_a_reason_and_opens_nothing(
        self, api, make_case, outsider, outsider_partner, emergency_agreement
    ):
        own_manager = factories.make_user(outsider_partner, "manager")
        first, second = make_case(summary="one"), make_case(summary="two")
        open_glass(api, outsider, first)
        request_id = open_glass(api, outsider, second).json()["id"]
        decide = f"/api/v1/break-glass/{request_id}/decision"
        assert (
            api(own_manager).post(decide, {"decision": "refuse"}, format="json").status_code == 400
        )
        refused = api(own_manager).post(
            decide, {"decision": "refuse", "reason": "Not an emergency"}, format="json"
        )
        assert refused.status_code == 200 and refused.json()["status"] == "refused"
        assert api(outsider).get(f"/api/v1/cases/{second.id}").status_code == 404

    def test_the_manager_approves_in_the_web(
        self, api, make_case, outsider, outsider_partner, emergency_agreement, client
    ):
        own_manager = factories.make_user(outsider_partner, "manager")
        first, second = make_case(summary="one"), make_case(summary="two")
        open_glass(api, outsider, first)
        request_id = open_glass(api, outsider, second).json()["id"]
        client.force_login(own_manager)
        page = client.get("/manager/break-glass/").content.decode()
        assert second.reference in page
        response = client.post(
            "/manager/break-glass/", {"request": request_id, "decision": "approve", "reason": ""}
        )
        assert response.status_code == 302
        assert BreakGlassAccess.objects.get(pk=request_id).status == "open"
        assert logged(own_manager, action="list_break_glass_requests").exists()

    def test_other_partners_managers_and_practitioners_see_no_requests_in_the_web(
        self, api, make_case, outsider, emergency_agreement, sergeant, client
    ):
        first, second = make_case(summary="one"), make_case(summary="two")
        open_glass(api, outsider, first)
        open_glass(api, outsider, second)
        client.force_login(sergeant)  # a manager, but of the lead partner, not the requester's
        assert second.reference not in client.get("/manager/break-glass/").content.decode()
        client.force_login(outsider)
        assert client.get("/manager/break-glass/").status_code == 403
