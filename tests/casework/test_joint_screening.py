"""Joint screening that really is joint: a decision is one partner's proposal until another
partner on the case confirms it (POST /referrals/{id}/screening/confirmations). A single-agency
"no further action" never closes an urgent case, and its missed deadline still escalates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AccessLog
from cases.models import Case
from casework import services
from casework.models import Referral, ScreeningConfirmation
from followups import sweeps
from followups.models import FollowUp, Notification
from partners.models import Role
from tests import factories
from tests.casework.conftest import logged
from tests.factories import actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_referral(case, officer):
    """A referral on the police-led case shared with the school and the VRU."""

    def make(urgency="urgent", by=None, **kw):
        intake = services.referral_create(
            actor=actor(by or officer), concerns=["domestic_abuse"], urgency=urgency,
            description="PPN: officers attended a domestic incident; child present.",
            subject=case.subject, case=Case.objects.get(pk=case.pk), **kw,
        )  # fmt: skip
        return intake.referral

    return make


@pytest.fixture
def urgent(make_referral):
    return make_referral("urgent")


def propose(api, user, referral, outcome="no_further_action", **data):
    body = {"outcome": outcome, "reasons": "No role for partners: family support in place.", **data}
    return api(user).post(f"/api/v1/referrals/{referral.id}/screening", body, format="json")


def answer(api, user, referral, decision="confirm", reason="Agreed at the DSL's review."):
    return api(user).post(
        f"/api/v1/referrals/{referral.id}/screening/confirmations",
        {"decision": decision, "reason": reason},
        format="json",
    )


def status_of(case) -> str:
    return Case.objects.get(pk=case.pk).status


class TestSingleAgencyOnAnUrgentCase:
    def test_no_further_action_alone_neither_closes_the_case_nor_shows_as_joint(
        self, api, urgent, case, officer
    ):
        assert status_of(case) == "screening"
        response = propose(api, officer, urgent)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["joint"] is False and body["status"] == "proposed"
        assert body["confirmations"] == [] and body["outcome"] == "no_further_action"
        assert status_of(case) == "screening"
        referral = Referral.objects.get(pk=urgent.pk)
        assert referral.screened_at is None  # still awaiting screening: the deadline stands
        detail = api(officer).get(f"/api/v1/referrals/{urgent.id}").json()
        assert detail["status"] == "awaiting_screening"
        assert detail["screening"]["joint"] is False
        assert detail["screening"]["outcome"] == "no_further_action"
        listed = api(officer).get("/api/v1/referrals/").json()["results"]
        assert [r["screening"]["joint"] for r in listed] == [False]
        deadline = FollowUp.objects.get(kind="screening_deadline", subject_id=urgent.pk)
        assert deadline.status == "pending"

    def test_its_missed_deadline_is_still_escalated_to_the_managers(
        self, urgent, officer, sergeant
    ):
        services.referral_screen(
            actor=actor(officer), referral=urgent, outcome="no_further_action", reasons="r"
        )
        later = urgent.screening_due_at + timedelta(minutes=1)
        assert sweeps.sweep_missed_screening(now=later) == 1
        deadline = FollowUp.objects.get(kind="screening_deadline", subject_id=urgent.pk)
        assert deadline.status == "escalated"
        assert Notification.objects.filter(
            recipient=sergeant, title__startswith="Deadline missed"
        ).exists()

    def test_once_confirmed_it_takes_effect_and_nothing_escalates(
        self, api, urgent, case, officer, teacher, sergeant
    ):
        propose(api, officer, urgent)
        response = answer(api, teacher, urgent)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["joint"] is True and body["status"] == "confirmed"
        [given] = body["confirmations"]
        assert given["partner"] == "school" and given["decision"] == "confirm"
        assert given["reason"] == "Agreed at the DSL's review." and given["at"]
        closed = Case.objects.get(pk=case.pk)
        assert closed.status == "closed" and closed.closure_reason == "no_further_action"
        referral = Referral.objects.get(pk=urgent.pk)
        assert referral.screened_at is not None
        detail = api(officer).get(f"/api/v1/referrals/{urgent.id}").json()
        assert detail["status"] == "screened" and detail["screening"]["joint"] is True
        assert FollowUp.objects.get(subject_id=urgent.pk).status == "done"
        later = urgent.screening_due_at + timedelta(minutes=1)
        assert sweeps.sweep_missed_screening(now=later) == 0
        # The lead partner's decision, carried out in its proposer's name by the system.
        move = AccessLog.objects.filter(action="transition", object_id=str(case.pk)).first()
        assert (move.user, move.channel) == (officer, "system")
        row = logged(teacher, action="confirm_screening", object_type="referral").get()
        assert row.object_id == str(urgent.pk) and row.detail == {"partner": "police"}

    def test_a_proposal_by_a_shared_partner_is_carried_out_when_the_lead_confirms(
        self, api, urgent, case, officer, teacher
    ):
        assert propose(api, teacher, urgent, outcome="early_help").status_code == 201
        assert status_of(case) == "screening"
        assert answer(api, officer, urgent).json()["joint"] is True
        assert status_of(case) == "open"
        move = AccessLog.objects.filter(action="transition", object_id=str(case.pk)).first()
        assert (move.user, move.channel) == (officer, "api")

    def test_a_case_never_shared_cannot_be_screened_out_alone(
        self, api, make_case, officer, sergeant
    ):
        lone = make_case(given="Kai", family="Thompson")
        intake = services.referral_create(
            actor=actor(officer), concerns=["missing_episode"], description="Missing overnight",
            urgency="urgent", subject=lone.subject, case=lone,
        )  # fmt: skip
        assert propose(api, officer, intake.referral).status_code == 201
        assert status_of(lone) == "screening"
        # Nobody else is on the case, and the police cannot confirm their own decision.
        assert answer(api, sergeant, intake.referral).status_code == 403
        assert status_of(lone) == "screening"


class TestStandardUrgency:
    def test_the_outcome_takes_effect_as_before_but_is_single_agency(
        self, api, make_referral, case, officer
    ):
        referral = make_referral("standard")
        body = propose(api, officer, referral).json()
        assert body["joint"] is False
        assert status_of(case) == "closed"  # today's behaviour for the outcome
        detail = api(officer).get(f"/api/v1/referrals/{referral.id}").json()
        assert detail["status"] == "screened" and detail["screening"]["joint"] is False

    def test_a_challenge_reopens_the_decision_and_a_new_one_may_be_proposed(
        self, api, make_referral, officer, teacher
    ):
        referral = make_referral("standard")
        propose(api, officer, referral)
        assert FollowUp.objects.get(subject_id=referral.pk).status == "done"
        response = answer(api, teacher, referral, "challenge", "School has new concerns.")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "challenged" and body["joint"] is False
        assert body["confirmations"][0]["decision"] == "challenge"
        assert Referral.objects.get(pk=referral.pk).screened_at is None
        assert FollowUp.objects.get(subject_id=referral.pk).status == "pending"
        # No confirming a challenged decision; a new proposal replaces it.
        again = answer(api, officer, referral)
        assert again.status_code == 403  # still the police's own proposal
        blocked = answer(api, teacher, referral)
        assert blocked.status_code == 409
        assert blocked.json()["error"]["code"] == "screening_challenged"
        second = propose(api, teacher, referral, outcome="early_help")
        assert second.status_code == 201, second.content
        assert second.json()["round"] == 2 and second.json()["partner"] == "school"
        confirmed = answer(api, officer, referral).json()
        assert confirmed["joint"] is True and confirmed["outcome"] == "early_help"
        # The challenge keeps what it challenged.
        challenge = ScreeningConfirmation.objects.get(decision="challenge")
        assert challenge.proposal["outcome"] == "no_further_action"
        assert challenge.proposal["partner"] == "police" and challenge.round == 1
        assert [(c["round"], c["decision"]) for c in confirmed["confirmations"]] == [
            (1, "challenge"),
            (2, "confirm"),
        ]

    def test_a_joint_decision_stands(self, api, make_referral, officer, teacher, vru):
        referral = make_referral("standard")
        propose(api, officer, referral)
        answer(api, teacher, referral)
        vru_worker = factories.make_user(vru, Role.PRACTITIONER)
        refused = answer(api, vru_worker, referral, "challenge", "We disagree.")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "already_joint"
        agreed = answer(api, vru_worker, referral)
        assert agreed.status_code == 201
        assert sorted(c["partner"] for c in agreed.json()["confirmations"]) == ["school", "vru"]
        assert propose(api, teacher, referral).json()["error"]["code"] == "already_screened"


class TestWhoMayAnswer:
    def test_another_partner_on_the_case_confirms(self, api, urgent, officer, school):
        propose(api, officer, urgent)
        school_manager = factories.make_user(school, Role.MANAGER)
        assert answer(api, school_manager, urgent).status_code == 201

    @pytest.mark.parametrize("who", ["officer", "sergeant"])
    def test_the_proposers_own_partner_cannot_confirm(
        self, api, urgent, officer, sergeant, case, who
    ):
        propose(api, officer, urgent)
        user = {"officer": officer, "sergeant": sergeant}[who]
        response = answer(api, user, urgent)
        assert response.status_code == 403
        assert "another partner" in response.json()["error"]["message"]
        assert status_of(case) == "screening" and not ScreeningConfirmation.objects.exists()
        assert logged(user, action="confirm_screening", allowed=False).exists()

    def test_an_outsider_gets_404_and_learns_nothing(self, api, urgent, officer, outsider):
        propose(api, officer, urgent)
        response = answer(api, outsider, urgent)
        assert response.status_code == 404
        missing = answer(api, outsider, Referral(id="00000000-0000-0000-0000-000000000000"))
        assert response.json() == missing.json()
        assert logged(outsider, object_type="referral", allowed=False).exists()
        assert not ScreeningConfirmation.objects.exists()

    def test_an_auditor_sees_no_referral_so_gets_404(self, api, urgent, officer, auditor):
        # Auditors never read case content (docs/security-model.md): the referral is not there.
        propose(api, officer, urgent)
        assert answer(api, auditor, urgent).status_code == 404
        assert not ScreeningConfirmation.objects.exists()

    def test_a_coordinator_on_the_case_is_the_wrong_role(self, api, urgent, officer, coordinator):
        propose(api, officer, urgent)
        assert api(coordinator).get(f"/api/v1/referrals/{urgent.id}").status_code == 200
        response = answer(api, coordinator, urgent)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
        assert logged(coordinator, action="confirm_screening", allowed=False).exists()

    def test_a_partner_system_does_not_confirm_for_its_people(self, api, urgent, officer, school):
        propose(api, officer, urgent)
        assert answer(api, factories.client_token(school), urgent).status_code == 403
        assert not ScreeningConfirmation.objects.exists()

    def test_one_answer_per_partner(self, api, urgent, officer, teacher, school):
        propose(api, officer, urgent)
        assert answer(api, teacher, urgent).status_code == 201
        again = answer(api, teacher, urgent)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
        colleague = factories.make_user(school, Role.PRACTITIONER)
        also = answer(api, colleague, urgent, "challenge", "I disagree.")
        assert also.status_code == 409 and also.json()["error"]["code"] == "already_answered"
        assert ScreeningConfirmation.objects.count() == 1

    def test_nothing_to_confirm_yet(self, api, urgent, teacher):
        response = answer(api, teacher, urgent)
        assert response.status_code == 409 and response.json()["error"]["code"] == "no_proposal"

    @pytest.mark.parametrize(
        "data, field",
        [
            ({"decision": "confirm", "reason": "  "}, "reason"),
            ({"decision": "confirm"}, "reason"),
            ({"decision": "shrug", "reason": "x"}, "decision"),
        ],
    )
    def test_a_reason_and_a_decision_are_required(self, api, urgent, officer, teacher, data, field):
        propose(api, officer, urgent)
        response = api(teacher).post(
            f"/api/v1/referrals/{urgent.id}/screening/confirmations", data, format="json"
        )
        assert response.status_code == 400 and field in response.json()["error"]["fields"]


class TestTold:
    def test_partners_on_the_case_are_asked_to_confirm(
        self, api, urgent, officer, sergeant, teacher, coordinator
    ):
        propose(api, officer, urgent)
        [asked] = Notification.objects.filter(kind="screening_confirmation")
        assert asked.recipient == teacher  # practitioners and managers of the other partners
        assert asked.link == f"/cases/{urgent.case_id}#referral-{urgent.pk}"
        assert "Jayden" not in asked.title and "no further action" not in asked.title.lower()

    def test_the_referrer_is_told_where_the_decision_stands(
        self, api, make_referral, officer, teacher, vru
    ):
        referral = make_referral("urgent", by=teacher)
        propose(api, officer, referral)
        [told] = Notification.objects.filter(recipient=teacher, kind="screening_outcome")
        assert "single-agency" in told.title
        assert told.link == f"/cases/{referral.case_id}#referral-{referral.pk}"
        vru_worker = factories.make_user(vru, Role.PRACTITIONER)
        assert answer(api, vru_worker, referral).status_code == 201
        titles = set(
            Notification.objects.filter(recipient=teacher, kind="screening_outcome").values_list(
                "title", flat=True
            )
        )
        assert any("confirmed jointly" in t for t in titles)
        assert Notification.objects.filter(
            recipient=officer, title__startswith="Your screening decision was confirmed"
        ).exists()


def test_the_openapi_document_describes_confirmations(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/referrals/{referral_id}/screening/confirmations" in schema
    assert "ScreeningDecisionEnum" in schema and "ScreeningStatusEnum" in schema
    assert '"joint"' in schema or "joint:" in schema


def test_the_change_feed_hears_of_an_answer(api, urgent, officer, teacher):
    propose(api, officer, urgent)
    from core.models import Change

    before = Change.objects.filter(resource="referral", object_id=urgent.pk).count()
    answer(api, teacher, urgent)
    assert Change.objects.filter(resource="referral", object_id=urgent.pk).count() == before + 1


class TestReports:
    def test_outcomes_say_how_many_decisions_were_joint_and_drop_challenged_ones(
        self, make_referral, officer, teacher, coordinator
    ):
        from casework import reports

        single, joint, challenged = (make_referral(u) for u in ("urgent", "standard", "standard"))
        for referral, outcome in ((single, "no_further_action"), (joint, "early_help")):
            services.referral_screen(
                actor=actor(officer), referral=referral, outcome=outcome, reasons="r"
            )
        services.referral_screen(
            actor=actor(officer), referral=challenged, outcome="no_further_action", reasons="r"
        )
        services.referral_screening_answer(
            actor=actor(teacher), referral=joint, decision="confirm", reason="Agreed"
        )
        services.referral_screening_answer(
            actor=actor(teacher), referral=challenged, decision="challenge", reason="No"
        )
        figures = reports.screening_outcome_shares(actor=actor(coordinator))
        assert (figures["screened"], figures["joint"], figures["single_agency"]) == (2, 1, 1)
        assert figures["unscreened"] == 1
        by = {row["outcome"]: row for row in figures["outcomes"]}
        assert (by["no_further_action"]["count"], by["no_further_action"]["joint"]) == (1, 0)
        assert (by["early_help"]["joint"], by["early_help"]["single_agency"]) == (1, 0)
        [row] = reports.nfa_rate_by_partner_month(actor=actor(coordinator))
        assert (row["screened"], row["joint"], row["single_agency"], row["nfa"]) == (2, 1, 1, 1)
