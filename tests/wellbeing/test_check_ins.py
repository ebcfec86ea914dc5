"""Recording and signing off supervision check-ins (wellbeing/services.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AccessLog
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from followups import kinds
from followups.models import FollowUp
from followups.services import followup_complete
from followups.sweeps import at_start_of_workday, sweep_supervision_check_ins
from tests.wellbeing.conftest import actor, details
from wellbeing import services
from wellbeing.models import CheckIn

pytestmark = pytest.mark.django_db


def supervision_followups(user):
    return FollowUp.objects.filter(kind=kinds.SUPERVISION_CHECK_IN, assignee_user=user)


class TestRecording:
    def test_a_manager_records_one_with_a_member_of_their_staff(self, check_in, officer, sergeant):
        assert check_in.subject == officer
        assert check_in.partner == officer.membership.partner
        assert check_in.recorded_by == sergeant
        assert not check_in.signed_off
        assert check_in.support_offered == ["peer_support", "counselling"]

    def test_the_member_of_staff_starts_their_own(self, officer):
        own = services.check_in_record(actor=actor(officer), subject=officer, data=details())
        assert own.recorded_by == officer and not own.signed_off

    def test_nobody_records_one_for_someone_they_do_not_supervise(
        self, officer, colleague, school_manager, teacher
    ):
        for who, subject in ((colleague, officer), (school_manager, officer), (officer, teacher)):
            with pytest.raises(NotFound):
                services.check_in_record(actor=actor(who), subject=subject, data=details())
        assert not CheckIn.objects.exists()
        refused = AccessLog.objects.filter(action="record_check_in", allowed=False)
        assert refused.count() == 3

    def test_every_problem_at_once_each_against_its_field(self, officer, sergeant):
        today = timezone.localdate()
        with pytest.raises(ValidationFailed) as caught:
            services.check_in_record(
                actor=actor(sergeant),
                subject=officer,
                data=details(
                    held_on=today + timedelta(days=1),
                    wellbeing=None,
                    exposure="some",
                    exposure_kind=" ",
                    workload="",
                    support_offered=["none_needed", "counselling"],
                    next_check_in_on=today,
                ),
            )
        assert caught.value.fields == {
            "held_on": "The date of the check-in must be today or in the past",
            "wellbeing": "Select how they are",
            "exposure_kind": "Say what kind of material they have been exposed to",
            "workload": "Select how their workload is",
            "support_offered": "Select either the support offered or none needed, not both",
            "next_check_in_on": "The date of the next check-in must be in the future",
        }

    def test_the_next_check_in_is_within_three_months(self, officer, sergeant):
        today = timezone.localdate()
        with pytest.raises(ValidationFailed) as caught:
            services.check_in_record(
                actor=actor(sergeant),
                subject=officer,
                data=details(next_check_in_on=today + timedelta(days=100)),
            )
        assert "within 3 months" in caught.value.fields["next_check_in_on"]

    def test_the_access_log_has_ids_never_content(self, check_in, sergeant):
        [row] = AccessLog.objects.filter(action="record_check_in")
        assert row.object_type == "supervision_check_in"
        assert row.object_id == str(check_in.pk)
        assert row.user == sergeant and row.allowed
        assert row.justification == "supervisor"
        assert row.detail == {}
        text = str(list(AccessLog.objects.values()))
        assert "Sleeping" not in text and "Images" not in text


class TestSignOff:
    def test_nobody_signs_off_their_own_check_in(self, officer, sergeant):
        for subject in (officer, sergeant):  # a practitioner's own, a manager's own
            own = services.check_in_record(actor=actor(subject), subject=subject, data=details())
            with pytest.raises(Forbidden) as caught:
                services.check_in_sign_off(actor=actor(subject), check_in=own)
            assert caught.value.message.startswith("You cannot sign off your own check-in.")
            assert caught.value.code == "own_check_in"
            own.refresh_from_db()
            assert not own.signed_off
        assert AccessLog.objects.filter(action="sign_off_check_in", allowed=False).count() == 2

    def test_a_managers_own_is_signed_off_by_another_manager(self, sergeant, inspector):
        own = services.check_in_record(actor=actor(sergeant), subject=sergeant, data=details())
        services.check_in_sign_off(actor=actor(inspector), check_in=own)
        own.refresh_from_db()
        assert own.signed_off_by == inspector

    def test_the_database_refuses_it_too(self, check_in, officer):
        with pytest.raises(IntegrityError), transaction.atomic():
            CheckIn.objects.filter(pk=check_in.pk).update(
                signed_off_by=officer, signed_off_at=timezone.now()
            )

    def test_others_cannot_find_it(self, check_in, colleague, school_manager, auditor):
        for who in (colleague, school_manager, auditor):
            with pytest.raises(NotFound):
                services.check_in_sign_off(actor=actor(who), check_in=check_in)
        check_in.refresh_from_db()
        assert not check_in.signed_off

    def test_once_only(self, check_in, sergeant, inspector):
        services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
        with pytest.raises(Conflict) as caught:
            services.check_in_sign_off(actor=actor(inspector), check_in=check_in)
        assert caught.value.code == "already_signed_off"
        check_in.refresh_from_db()
        assert check_in.signed_off_by == sergeant

    def test_it_completes_the_months_check_in_and_schedules_the_next(
        self, high_exposure, officer, sergeant, check_in
    ):
        sweep_supervision_check_ins()
        [monthly] = supervision_followups(officer)
        assert monthly.status == "pending"
        services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
        monthly.refresh_from_db()
        assert monthly.status == "done"
        [agreed] = supervision_followups(officer).exclude(pk=monthly.pk)
        assert agreed.status == "pending"
        assert agreed.subject_resource == "supervision_check_in"
        assert agreed.subject_id == check_in.pk
        assert agreed.due_at == at_start_of_workday(check_in.next_check_in_on)
        assert agreed.assignee_partner == officer.membership.partner
        # The agreed date stands: next month's sweep makes no monthly one while it is to come.
        sweep_supervision_check_ins(now=timezone.now() + timedelta(days=1))
        assert supervision_followups(officer).count() == 2

    def test_recording_alone_completes_nothing(self, high_exposure, officer, check_in):
        sweep_supervision_check_ins()
        assert supervision_followups(officer).get().status == "pending"

    def test_a_check_in_is_not_ticked_off_by_hand(self, high_exposure, officer):
        sweep_supervision_check_ins()
        followup = supervision_followups(officer).get()
        with pytest.raises(Conflict) as caught:
            followup_complete(actor=actor(officer), followup=followup)
        assert "recorded and signed off" in caught.value.message
        followup.refresh_from_db()
        assert followup.status == "pending"


class TestSweepAfterAgreedDate:
    def test_a_missed_agreed_date_brings_the_monthly_one_back(
        self, high_exposure, officer, sergeant
    ):
        today = timezone.localdate()
        check_in = services.check_in_record(
            actor=actor(sergeant),
            subject=officer,
            data=details(next_check_in_on=today + timedelta(days=10)),
        )
        services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
        # Two months on, the agreed date has passed without a check-in: the month's is created.
        sweep_supervision_check_ins(now=timezone.now() + timedelta(days=62))
        resources = sorted(
            supervision_followups(officer).values_list("subject_resource", flat=True)
        )
        assert resources == ["supervision_check_in", "user"]

    def test_an_agreed_date_lapses_when_they_leave(self, officer, sergeant, check_in):
        services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
        officer.is_active = False
        officer.save()
        sweep_supervision_check_ins()
        assert supervision_followups(officer).get().status == "cancelled"


def test_the_api_says_a_check_in_is_done_by_recording_it(api, high_exposure, officer):
    sweep_supervision_check_ins()
    followup = supervision_followups(officer).get()
    response = api(officer).post(f"/api/v1/follow-ups/{followup.pk}/done")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "done_by_record"
