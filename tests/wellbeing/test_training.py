"""Trauma training records and their refreshers (wellbeing/training.py, the refresher sweep)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationFailed
from followups import kinds
from followups.models import FollowUp, Notification
from followups.services import followup_complete, followups_deliver_due
from followups.sweeps import at_start_of_workday, sweep_training_refreshers
from partners.models import PractitionerProfile
from tests.wellbeing.conftest import actor
from wellbeing import services, training

pytestmark = pytest.mark.django_db


def course(completed_on: date, level: str = "skilled", name: str = "ACE TIME") -> dict:
    return {"course": name, "level": level, "completed_on": completed_on}


def refreshers(user):
    return FollowUp.objects.filter(kind=kinds.TRAINING_REFRESHER, subject_id=user.pk)


def test_a_manager_or_the_person_records_it_and_the_level_rises(officer, sergeant):
    today = timezone.localdate()
    services.training_record(actor=actor(officer), subject=officer, data=course(today, "informed"))
    services.training_record(actor=actor(sergeant), subject=officer, data=course(today))
    services.training_record(actor=actor(sergeant), subject=officer, data=course(today, "aware"))
    assert PractitionerProfile.objects.get(user=officer).trauma_training_level == "skilled"
    assert officer.training_records.count() == 3


def test_nobody_else_records_it(officer, colleague, school_manager):
    for who in (colleague, school_manager):
        with pytest.raises(NotFound):
            services.training_record(
                actor=actor(who), subject=officer, data=course(timezone.localdate())
            )
    assert not officer.training_records.exists()


def test_bad_input_names_every_field(officer):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        services.training_record(
            actor=actor(officer),
            subject=officer,
            data={"course": "", "level": "", "completed_on": tomorrow},
        )
    assert set(caught.value.fields) == {"course", "level", "completed_on"}


class TestRefreshers:
    def test_notice_ahead_of_the_due_date_once(self, officer, sergeant):
        today = timezone.localdate()
        completed = (
            today - relativedelta(months=training.REFRESHER_MONTHS["skilled"]) + timedelta(days=30)
        )
        services.training_record(actor=actor(sergeant), subject=officer, data=course(completed))
        assert sweep_training_refreshers() == 1
        assert sweep_training_refreshers() == 1  # the unique key: nothing twice
        [followup] = refreshers(officer)
        due_on = training.refresher_due_on("skilled", completed)
        assert followup.due_at == at_start_of_workday(due_on - training.REFRESHER_NOTICE)
        assert followup.assignee_user == officer
        assert followup.assignee_partner == officer.membership.partner
        followups_deliver_due()
        told = set(Notification.objects.values_list("recipient__email", flat=True))
        assert told == {officer.email, sergeant.email}  # the person and their managers

    def test_nothing_while_it_is_far_off(self, officer):
        services.training_record(
            actor=actor(officer), subject=officer, data=course(timezone.localdate())
        )
        assert sweep_training_refreshers() == 0
        assert not refreshers(officer).exists()

    def test_the_interval_is_the_highest_levels(self, officer):
        today = timezone.localdate()
        # Specialist a year ago less a month (refresher every 12 months): due soon; the aware
        # course since then does not move it.
        services.training_record(
            actor=actor(officer), subject=officer,
            data=course(today - relativedelta(months=12) + timedelta(days=30), "specialist"),
        )  # fmt: skip
        services.training_record(
            actor=actor(officer), subject=officer, data=course(today, "aware", "Induction")
        )
        assert sweep_training_refreshers() == 1

    def test_recording_the_refresher_completes_it(self, officer, sergeant):
        today = timezone.localdate()
        old = today - relativedelta(months=24) + timedelta(days=10)
        services.training_record(actor=actor(sergeant), subject=officer, data=course(old))
        sweep_training_refreshers()
        [followup] = refreshers(officer)
        # It is not ticked off by hand...
        with pytest.raises(Conflict):
            followup_complete(actor=actor(officer), followup=followup)
        # ... a lower level does not count ...
        services.training_record(actor=actor(officer), subject=officer, data=course(today, "aware"))
        followup.refresh_from_db()
        assert followup.status == "pending"
        # ... the same level does.
        services.training_record(actor=actor(sergeant), subject=officer, data=course(today))
        followup.refresh_from_db()
        assert followup.status == "done"
        # And the sweep does not bring it back.
        assert sweep_training_refreshers() == 0

    def test_a_pending_notice_lapses_when_they_leave(self, officer):
        today = timezone.localdate()
        completed = today - relativedelta(months=24) + timedelta(days=30)
        services.training_record(actor=actor(officer), subject=officer, data=course(completed))
        # The notice falls due in the future (the sweep ran early): still pending.
        sweep_training_refreshers(now=timezone.now() + timedelta(days=1))
        officer.is_active = False
        officer.save()
        sweep_training_refreshers()
        assert refreshers(officer).get().status == "cancelled"
