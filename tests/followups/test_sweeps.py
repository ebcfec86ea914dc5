"""The periodic sweeps find in the database what needs a follow-up and create it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, ConsentRecord, Share
from followups import kinds, sweeps
from followups.models import FollowUp, Notification
from followups.services import followups_deliver_due
from partners.models import PractitionerProfile, Role
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

casework_installed = pytest.mark.skipif(
    not apps.is_installed("casework")
    or "casework.Action" not in {m._meta.label for m in apps.get_models()},
    reason="casework models not built yet",
)


def followups(kind):
    return list(FollowUp.objects.filter(kind=kind).order_by("due_at"))


def run_twice(sweep, **kwargs):
    first = sweep(**kwargs)
    sweep(**kwargs)
    return first


class TestCaseReviews:
    def test_the_lead_practitioner_is_reminded_two_days_before(self, officer, case):
        review = timezone.localdate() + timedelta(days=1)
        Case.objects.filter(pk=case.pk).update(review_date=review)
        run_twice(sweeps.sweep_case_reviews)
        [followup] = followups(kinds.CASE_REVIEW)
        assert followup.assignee_user == officer
        assert followup.case_id == case.pk
        assert timezone.localtime(followup.due_at).date() == review - timedelta(days=2)
        assert timezone.localtime(followup.due_at).hour == 9
        assert "Case review due on" in followup.title

    def test_no_practitioner_means_the_lead_partner(self, sergeant, police, make_case):
        case = make_case(by=sergeant, review_date=timezone.localdate())
        sweeps.sweep_case_reviews()
        assert followups(kinds.CASE_REVIEW)[0].assignee_partner == police
        assert case.lead_practitioner is None

    def test_a_moved_review_date_replaces_the_pending_follow_up(self, case):
        Case.objects.filter(pk=case.pk).update(review_date=timezone.localdate())
        sweeps.sweep_case_reviews()
        Case.objects.filter(pk=case.pk).update(review_date=timezone.localdate() + timedelta(days=1))
        sweeps.sweep_case_reviews()
        statuses = [f.status for f in followups(kinds.CASE_REVIEW)]
        assert statuses == ["cancelled", "pending"]

    def test_closed_cases_and_far_off_reviews_get_none(self, officer, case):
        Case.objects.filter(pk=case.pk).update(
            review_date=timezone.localdate() + timedelta(days=30)
        )
        sweeps.sweep_case_reviews()
        assert followups(kinds.CASE_REVIEW) == []
        Case.objects.filter(pk=case.pk).update(review_date=timezone.localdate())
        sweeps.sweep_case_reviews()
        Case.objects.filter(pk=case.pk).update(status="closed", closure_reason="other")
        sweeps.sweep_case_reviews()
        assert [f.status for f in followups(kinds.CASE_REVIEW)] == ["cancelled"]


class TestExpiringSharesAndConsents:
    def test_notice_before_a_share_ends(self, officer, school, shared_case):
        ends = timezone.now() + timedelta(days=10)
        Share.objects.filter(case=shared_case, partner=school).update(expires_at=ends)
        assert run_twice(sweeps.sweep_expiring_shares_and_consents) == 1
        [followup] = followups(kinds.SHARE_EXPIRING)
        assert followup.due_at == ends - sweeps.EXPIRY_NOTICE  # due now: the notice is late
        assert followup.assignee_user == officer
        followups_deliver_due()
        assert Notification.objects.get(recipient=officer).title.startswith("A case share ends on")

    def test_a_revoked_share_needs_no_notice(self, officer, school, shared_case):
        Share.objects.filter(case=shared_case).update(
            expires_at=timezone.now() + timedelta(days=20)
        )
        sweeps.sweep_expiring_shares_and_consents()
        assert followups(kinds.SHARE_EXPIRING) == []  # not within the notice yet
        in_a_week = timezone.now() + timedelta(days=7)
        sweeps.sweep_expiring_shares_and_consents(now=in_a_week)
        assert followups(kinds.SHARE_EXPIRING)[0].status == "pending"
        case_services.share_revoke(actor=actor(officer), case=shared_case, partner=school)
        sweeps.sweep_expiring_shares_and_consents()
        assert followups(kinds.SHARE_EXPIRING)[0].status == "cancelled"

    def test_notice_before_consent_ends(self, officer, case):
        ConsentRecord.objects.create(
            case=case, person=case.subject, decision="given", lawful_basis="consent",
            scope="Sharing with school", expires_at=timezone.now() + timedelta(days=3),
        )  # fmt: skip
        ConsentRecord.objects.create(
            case=case, person=case.subject, decision="refused", lawful_basis="consent",
            scope="Health", expires_at=timezone.now() + timedelta(days=3),
        )  # fmt: skip
        assert run_twice(sweeps.sweep_expiring_shares_and_consents) == 1
        assert followups(kinds.CONSENT_EXPIRING)[0].assignee_user == officer


class TestSupervision:
    def test_monthly_check_in_for_high_exposure_staff_and_their_managers(
        self, officer, sergeant, teacher, police
    ):
        PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
        PractitionerProfile.objects.filter(user=teacher).update(high_exposure=False)
        colleague = factories.make_user(police, Role.PRACTITIONER)
        assert run_twice(sweeps.sweep_supervision_check_ins) == 1
        [followup] = followups(kinds.SUPERVISION_CHECK_IN)
        assert timezone.localtime(followup.due_at).day == 1
        # Delivered once due, whatever the time of day the test runs (even early on the 1st).
        followups_deliver_due(now=max(timezone.now(), followup.due_at))
        told = set(Notification.objects.values_list("recipient__email", flat=True))
        # The officer and the managers; never a colleague (it is about someone's wellbeing).
        assert told == {officer.email, sergeant.email}
        assert colleague.email not in told

    def test_next_month_is_a_new_check_in(self, officer):
        PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
        now = timezone.now()
        sweeps.sweep_supervision_check_ins(now=now)
        sweeps.sweep_supervision_check_ins(now=now + relativedelta(months=1))
        assert len(followups(kinds.SUPERVISION_CHECK_IN)) == 2

    def test_it_lapses_when_the_flag_is_cleared(self, officer):
        PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
        sweeps.sweep_supervision_check_ins(now=timezone.now() + relativedelta(months=1))
        PractitionerProfile.objects.filter(user=officer).update(high_exposure=False)
        sweeps.sweep_supervision_check_ins()
        assert followups(kinds.SUPERVISION_CHECK_IN)[0].status == "cancelled"


class TestRetention:
    """The sweep reads the retention date the status transition stored (tests/cases/test_retention.py
    covers how it is set, its idempotence and its indexes)."""

    def test_a_closed_case_past_its_agreements_retention_gets_a_review(
        self, officer, sergeant, shared_case, agreement, make_case
    ):
        agreement.retention_months = 24
        agreement.save()
        for case in (shared_case, make_case()):
            case_services.case_transition(
                actor=actor(officer), case=case, to="closed", closure_reason="support_completed"
            )
        shared_case.refresh_from_db()
        assert shared_case.retention_until == timezone.localdate() + relativedelta(months=24)
        long_ago = timezone.localdate() - relativedelta(months=1)
        Case.objects.filter(pk=shared_case.pk).update(retention_until=long_ago)
        assert run_twice(sweeps.sweep_retention_reviews) == 1
        [followup] = followups(kinds.RETENTION_REVIEW)
        assert followup.case_id == shared_case.pk
        assert followup.due_at == sweeps.at_start_of_workday(long_ago)
        followups_deliver_due()
        assert list(Notification.objects.values_list("recipient", flat=True)) == [sergeant.pk]

    def test_without_a_share_the_default_applies_and_reopening_cancels(self, officer, case):
        closed = case_services.case_transition(
            actor=actor(officer), case=case, to="closed", closure_reason="support_completed"
        )
        assert closed.retention_until == timezone.localdate() + relativedelta(months=72)
        assert sweeps.sweep_retention_reviews(now=timezone.now() + relativedelta(months=71)) == 0
        assert sweeps.sweep_retention_reviews(now=timezone.now() + relativedelta(months=73)) == 1
        case_services.case_transition(actor=actor(officer), case=closed, to="open")
        sweeps.sweep_retention_reviews()
        assert followups(kinds.RETENTION_REVIEW)[0].status == "cancelled"


@casework_installed
class TestCasework:
    def test_an_overdue_action_notifies_its_owner(self, officer, case):
        from casework.services import action_create

        action = action_create(
            actor=actor(officer), case=case, title="Home visit", due_date=timezone.localdate()
        )
        Action = apps.get_model("casework.Action")
        Action.objects.filter(pk=action.pk).update(
            due_date=timezone.localdate() - timedelta(days=2)
        )
        assert run_twice(sweeps.sweep_overdue_actions) == 1
        [followup] = followups(kinds.ACTION_OVERDUE)
        assert followup.assignee_user == officer
        followups_deliver_due()
        assert Notification.objects.get().link == f"/cases/{case.pk}"

    def test_an_action_done_before_the_notice_is_dropped(self, officer, case):
        from casework.services import action_create

        Action = apps.get_model("casework.Action")
        action = action_create(
            actor=actor(officer), case=case, title="Call school", due_date=timezone.localdate()
        )
        Action.objects.filter(pk=action.pk).update(
            due_date=timezone.localdate() - timedelta(days=1)
        )
        sweeps.sweep_overdue_actions(now=timezone.now() - timedelta(days=1, hours=-1))
        sweeps.sweep_overdue_actions()
        Action.objects.filter(pk=action.pk).update(status="done")
        sweeps.sweep_overdue_actions()
        assert {f.status for f in followups(kinds.ACTION_OVERDUE)} <= {"cancelled", "notified"}

    def test_a_missed_screening_deadline_is_escalated_to_the_managers(
        self, officer, sergeant, police
    ):
        from casework.services import referral_create

        intake = referral_create(
            actor=actor(officer),
            concerns=["domestic_abuse"],
            description="Police attended a domestic incident; child present.",
            person={"given_name": "Amira", "family_name": "Hassan"},
        )
        referral = intake.referral
        assert sweeps.sweep_missed_screening() == 0  # not missed yet
        later = referral.screening_due_at + timedelta(minutes=1)
        assert sweeps.sweep_missed_screening(now=later) == 1
        assert sweeps.sweep_missed_screening(now=later) == 0
        [followup] = followups(kinds.SCREENING_OVERDUE)
        assert followup.status == FollowUp.Status.ESCALATED
        [notification] = Notification.objects.all()
        assert notification.recipient == sergeant
        assert notification.title.startswith("Deadline missed")
        assert "Amira" not in notification.title

    def test_a_referral_without_its_follow_up_gets_one(self, officer, sergeant):
        from casework.services import referral_create

        intake = referral_create(
            actor=actor(officer),
            concerns=["neglect"],
            description="Concern raised at school.",
            person={"given_name": "Leah", "family_name": "Williams"},
        )
        FollowUp.objects.all().delete()  # e.g. a referral that arrived by batch sync
        later = intake.referral.screening_due_at + timedelta(hours=1)
        assert sweeps.sweep_missed_screening(now=later) == 1
        assert Notification.objects.get().recipient == sergeant

    def test_a_screened_referral_is_not_escalated(self, officer, sergeant):
        from casework.services import referral_create, referral_screen

        intake = referral_create(
            actor=actor(officer),
            concerns=["neglect"],
            description="Concern raised at school.",
            person={"given_name": "Leah", "family_name": "Williams"},
        )
        referral_screen(
            actor=actor(officer), referral=intake.referral, outcome="early_help", reasons="Agreed"
        )
        later = intake.referral.screening_due_at + timedelta(hours=1)
        assert sweeps.sweep_missed_screening(now=later) == 0
        followups_deliver_due(now=later)
        assert not Notification.objects.exists()
