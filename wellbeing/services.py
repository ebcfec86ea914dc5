"""Recording and signing off supervision check-ins, and recording trauma training.

A check-in is done when a supervisor signs it off: that completes the subject's open supervision
follow-ups (the month's, or the one agreed last time) and schedules the next one for the date
agreed at this check-in. Rights are wellbeing/access.py's; every write is access-logged by id.
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from core.errors import Conflict, ValidationFailed
from core.guards import guarded
from followups import kinds
from followups.models import FollowUp
from followups.services import followup_create
from followups.sweeps import at_start_of_workday
from partners.actor import Actor
from partners.models import PractitionerProfile, TrainingRecord, TraumaTrainingLevel, User
from wellbeing import access, training
from wellbeing.models import CheckIn, Exposure, Support, Wellbeing, Workload

# How far ahead the next check-in may be agreed: high-exposure staff are seen at least this often.
MAX_INTERVAL = relativedelta(months=3)
TEXT_LIMIT = 4000
OPEN = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)
CHECK_IN_FIELDS = (
    "held_on", "wellbeing", "wellbeing_notes", "exposure", "exposure_kind", "workload",
    "support_offered", "agreed_actions", "next_check_in_on",
)  # fmt: skip


def check_in_problems(data: dict, *, today: date | None = None) -> dict[str, str]:
    """Every problem with a check-in's details at once, each against its field, in words a person
    can act on. Used by the service and by the web form (so a form shows them all together)."""
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    held_on = data.get("held_on")
    if not isinstance(held_on, date):
        problems["held_on"] = "Enter the date of the check-in"
    elif held_on > today:
        problems["held_on"] = "The date of the check-in must be today or in the past"
    if data.get("wellbeing") not in Wellbeing.values:
        problems["wellbeing"] = "Select how they are"
    if data.get("exposure") not in Exposure.values:
        problems["exposure"] = "Select how much traumatic material they have been exposed to"
    elif data.get("exposure") != Exposure.NONE and not str(data.get("exposure_kind", "")).strip():
        problems["exposure_kind"] = "Say what kind of material they have been exposed to"
    if data.get("workload") not in Workload.values:
        problems["workload"] = "Select how their workload is"
    support = data.get("support_offered")
    if not isinstance(support, list | tuple) or not support:
        problems["support_offered"] = "Select the support offered, or none needed"
    elif any(s not in Support.values for s in support):
        problems["support_offered"] = "Select the support offered from the list"
    elif Support.NONE_NEEDED in support and len(support) > 1:
        problems["support_offered"] = "Select either the support offered or none needed, not both"
    next_on = data.get("next_check_in_on")
    if not isinstance(next_on, date):
        problems["next_check_in_on"] = "Enter the date of the next check-in"
    elif next_on <= today:
        problems["next_check_in_on"] = "The date of the next check-in must be in the future"
    elif isinstance(held_on, date) and next_on > held_on + MAX_INTERVAL:
        problems["next_check_in_on"] = (
            "The next check-in must be within 3 months of this one "
            f"(by {held_on + MAX_INTERVAL:%-d %B %Y})"
        )
    for name in ("wellbeing_notes", "exposure_kind", "agreed_actions"):
        if len(str(data.get(name) or "")) > TEXT_LIMIT:
            problems[name] = f"Keep this to {TEXT_LIMIT:,} characters or fewer"
    return problems


@guarded(
    lambda actor, subject, **_: access.check_record_for(actor, subject, action="record_check_in")
)
def check_in_record(*, actor: Actor, subject: User, data: dict) -> CheckIn:
    """Record a check-in with (or by) the member of staff. It waits for a supervisor's sign-off;
    it is held at the subject's partner, whose managers supervise it."""
    problems = check_in_problems(data)
    if problems:
        raise ValidationFailed("Check the check-in's details.", fields=problems)
    check_in = CheckIn.objects.create(
        subject=subject,
        partner_id=subject.membership.partner_id,
        held_on=data["held_on"],
        wellbeing=int(data["wellbeing"]),
        wellbeing_notes=str(data.get("wellbeing_notes") or "").strip(),
        exposure=data["exposure"],
        exposure_kind=(
            "" if data["exposure"] == Exposure.NONE else str(data["exposure_kind"]).strip()
        ),
        workload=data["workload"],
        support_offered=list(dict.fromkeys(data["support_offered"])),
        agreed_actions=str(data.get("agreed_actions") or "").strip(),
        next_check_in_on=data["next_check_in_on"],
        recorded_by=actor.user,
    )
    access.log_check_ins(actor, [check_in], action="record_check_in")
    return check_in


@guarded(lambda actor, check_in, **_: access.check_sign_off(actor, check_in))
def check_in_sign_off(*, actor: Actor, check_in: CheckIn) -> CheckIn:
    """A supervisor who is not its subject signs the check-in off (access.check_sign_off refuses
    the subject, whatever their role). Once only: 409 when already signed off. Completes the
    subject's open supervision follow-ups and schedules the next at the agreed date."""
    now = timezone.now()
    # The conditional UPDATE decides between two supervisors signing off at once.
    if not CheckIn.objects.filter(pk=check_in.pk, signed_off_at__isnull=True).update(
        signed_off_by=actor.user, signed_off_at=now
    ):
        check_in.refresh_from_db()
        raise Conflict(
            f"This check-in was signed off on {timezone.localtime(check_in.signed_off_at):%-d %B %Y}.",
            code="already_signed_off",
        )
    check_in.refresh_from_db()
    FollowUp.objects.filter(
        kind=kinds.SUPERVISION_CHECK_IN, assignee_user_id=check_in.subject_id, status__in=OPEN
    ).update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)
    # Private: the subject and their supervisors only (followups.kinds.PRIVATE_KINDS).
    followup_create(
        kind=kinds.SUPERVISION_CHECK_IN,
        subject_resource=access.CHECK_IN,
        subject_id=check_in.pk,
        due_at=at_start_of_workday(check_in.next_check_in_on),
        title=f"Supervision and wellbeing check-in agreed for "
        f"{check_in.next_check_in_on:%-d %B %Y}",
        assignee_user=check_in.subject,
        assignee_partner=check_in.partner,
    )
    access.log_check_ins(actor, [check_in], action="sign_off_check_in")
    return check_in


def training_problems(data: dict, *, today: date | None = None) -> dict[str, str]:
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    course = str(data.get("course") or "").strip()
    if not course:
        problems["course"] = "Enter the name of the course"
    elif len(course) > 200:
        problems["course"] = "The name of the course must be 200 characters or fewer"
    if training.rank(data.get("level") or "") == 0:
        problems["level"] = "Select the level of the National Trauma Training Framework it covers"
    completed_on = data.get("completed_on")
    if not isinstance(completed_on, date):
        problems["completed_on"] = "Enter the date the course was completed"
    elif completed_on > today:
        problems["completed_on"] = "The date the course was completed must be today or in the past"
    if len(str(data.get("notes") or "")) > TEXT_LIMIT:
        problems["notes"] = f"Keep this to {TEXT_LIMIT:,} characters or fewer"
    return problems


@guarded(
    lambda actor, subject, **_: access.check_record_for(actor, subject, action="record_training")
)
def training_record(*, actor: Actor, subject: User, data: dict) -> TrainingRecord:
    """Record a course completed at a level of the framework. The person's trauma-training level
    rises to it when higher; a course at their highest level or above completes the refresher
    that was due."""
    problems = training_problems(data)
    if problems:
        raise ValidationFailed("Check the training's details.", fields=problems)
    level = TraumaTrainingLevel(data["level"])
    highest_before = max(
        (training.rank(lvl) for lvl in subject.training_records.values_list("level", flat=True)),
        default=0,
    )
    record = TrainingRecord.objects.create(
        user=subject,
        course=str(data["course"]).strip(),
        level=level,
        completed_on=data["completed_on"],
        notes=str(data.get("notes") or "").strip(),
    )
    profile, _ = PractitionerProfile.objects.get_or_create(user=subject)
    if training.rank(profile.trauma_training_level) < training.rank(level):
        PractitionerProfile.objects.filter(pk=profile.pk).update(trauma_training_level=level)
    if training.rank(level) >= highest_before:
        # A course at their highest level (or above) is the refresher: what was due is done.
        now = timezone.now()
        FollowUp.objects.filter(
            kind=kinds.TRAINING_REFRESHER, subject_resource="user", subject_id=subject.pk,
            status__in=OPEN,
        ).update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)  # fmt: skip
    access.log_training(actor, [record], action="record_training")
    return record
