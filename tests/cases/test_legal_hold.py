"""Legal holds: the lead partner's managers and the partnership's auditors place and lift them;
a held case cannot be disposed of; nobody else learns the case exists."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases import services
from cases.models import Case, LegalHold
from partners.models import Role
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def closed_case(shared_case, officer):
    return services.case_transition(
        actor=actor(officer), case=shared_case, to="closed", closure_reason="support_completed"
    )


def hold(api, who, case_id, reason="Civil claim lodged"):
    return api(who).post(f"/api/v1/cases/{case_id}/legal-hold", {"reason": reason}, format="json")


def lift(api, who, case_id):
    return api(who).delete(f"/api/v1/cases/{case_id}/legal-hold")


def dispose(api, who, case_id):
    return api(who).post(
        f"/api/v1/cases/{case_id}/retention", {"decision": "dispose"}, format="json"
    )


class TestPlacingAndLifting:
    def test_the_lead_partners_manager_holds_and_disposal_is_409_naming_the_hold(
        self, api, sergeant, closed_case
    ):
        response = hold(api, sergeant, closed_case.pk)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["reason"] == "Civil claim lodged" and body["placed_by_partner"] == "police"
        assert hold(api, sergeant, closed_case.pk).status_code == 409
        refused = dispose(api, sergeant, closed_case.pk)
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "legal_hold"
        assert "Civil claim lodged" in error["message"] and "Northshire Police" in error["message"]
        assert Case.objects.filter(pk=closed_case.pk).exists()
        assert lift(api, sergeant, closed_case.pk).status_code == 204
        assert lift(api, sergeant, closed_case.pk).status_code == 404
        assert dispose(api, sergeant, closed_case.pk).status_code == 200
        assert not LegalHold.objects.exists()  # gone with the case

    def test_the_partnership_auditor_holds_without_reading_the_case(
        self, api, auditor, sergeant, closed_case
    ):
        assert api(auditor).get(f"/api/v1/cases/{closed_case.pk}").status_code == 404
        assert hold(api, auditor, closed_case.pk).status_code == 201
        held = LegalHold.objects.get(case=closed_case)
        assert held.placed_by == auditor
        assert dispose(api, sergeant, closed_case.pk).status_code == 409
        assert lift(api, auditor, closed_case.pk).status_code == 204
        rows = AccessLog.objects.filter(user=auditor, allowed=True)
        assert set(rows.values_list("action", flat=True)) == {"place_legal_hold", "lift_legal_hold"}
        assert all(r.object_id == str(closed_case.pk) for r in rows)
        assert "Civil" not in str(list(rows.values_list("justification", "detail")))

    def test_a_reason_is_needed(self, api, sergeant, closed_case):
        response = hold(api, sergeant, closed_case.pk, reason="  ")
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["fields"]


class TestWhoMay:
    @pytest.mark.parametrize("who", ["officer", "teacher", "school_manager", "coordinator_on"])
    def test_those_who_see_the_case_but_may_not_hold_it_get_403(
        self, api, request, who, closed_case, school, vru, coordinator, officer
    ):
        if who == "school_manager":
            caller = factories.make_user(school, Role.MANAGER)
        elif who == "coordinator_on":
            services.case_share(
                actor=actor(officer), case=closed_case, partner=vru,
                lawful_basis="public_task", reason="Programme",
            )  # fmt: skip
            caller = coordinator
        else:
            caller = request.getfixturevalue(who)
        assert hold(api, caller, closed_case.pk).status_code == 403
        assert lift(api, caller, closed_case.pk).status_code == 403
        assert not LegalHold.objects.exists()

    @pytest.mark.parametrize("who", ["outsider", "outsider_manager", "school_auditor", "admin"])
    def test_everyone_else_gets_the_same_404_as_for_a_missing_case(
        self, api, who, closed_case, outsider, outsider_partner, school, police
    ):
        caller = {
            "outsider": lambda: outsider,
            "outsider_manager": lambda: factories.make_user(outsider_partner, Role.MANAGER),
            "school_auditor": lambda: factories.make_user(school, Role.AUDITOR),
            "admin": lambda: factories.make_user(police, Role.ADMIN),
        }[who]()
        hidden, missing = hold(api, caller, closed_case.pk), hold(api, caller, MISSING)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        assert lift(api, caller, closed_case.pk).json() == lift(api, caller, MISSING).json()
        assert not LegalHold.objects.exists()
        refused = AccessLog.objects.filter(user=caller, allowed=False)
        assert refused.filter(object_id=str(closed_case.pk)).count() == 2

    def test_a_partner_system_may_not(self, api, police, closed_case):
        system = factories.client_token(police)
        assert hold(api, system, closed_case.pk).status_code == 403
