"""Reads from the apps that grow alongside cases: case work, programmes, follow-ups.

Each goes through its app's own access or selector functions, which write the access log.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.db.models import prefetch_related_objects
from django.utils import timezone

from cases import access as case_access
from casework import access as casework_access
from casework import selectors as casework_selectors
from casework.models import EntryKind
from casework.vocabularies import group, label
from followups import selectors as followup_selectors
from followups.models import FollowUp
from partners.actor import Actor
from partners.models import User
from programmes import access as programme_access
from programmes.eligibility import seen_by

OPEN_FOLLOWUPS = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)


def my_work_extras(actor: Actor, visible_case_ids: set) -> dict:
    """Notifications, follow-ups and actions due for this person. Titles carry no personal data."""
    if actor.user is None:
        return {}
    notifications = list(
        followup_selectors.notifications_for(actor.user).filter(read_at__isnull=True)[:10]
    )
    followups = list(
        followup_selectors.followups_visible_to(actor)
        .filter(status__in=OPEN_FOLLOWUPS)
        .order_by("due_at")[:10]
    )
    for f in followups:
        f.visible_case_id = f.case_id
    actions = list(
        casework_selectors.actions_with_related(
            casework_access.actions_visible_to(actor).filter(owner_user=actor.user, status="open")
        ).order_by("due_date")[:10]
    )
    if actions:
        casework_access.log_records(actor, "action", actions, action="list")
    return {
        "notifications": notifications,
        "followups": followups,
        "actions_due": actions,
    }


def users_on_case(case):
    """Active staff of the partners that can see the case: who may be named or own an action."""
    partners = case_access.partners_with_access(case)
    return (
        User.objects.filter(is_active=True, membership__partner__in=partners)
        .select_related("membership__partner")
        .order_by("membership__partner__name", "full_name")
    )


def _before(previous: dict) -> dict:
    """An amendment's previous values, readable."""
    before = {"body": previous.get("body", "")}
    if previous.get("kind") in EntryKind.values:
        before["kind"] = EntryKind(previous["kind"]).label
    if previous.get("occurred_at"):
        with contextlib.suppress(TypeError, ValueError):
            before["occurred_at"] = timezone.localtime(
                datetime.fromisoformat(previous["occurred_at"])
            )
    return before


def case_sections(actor: Actor, case) -> dict:
    """The case-work and programme sections of the case page (each read is access-logged)."""
    entries = casework_selectors.chronology(actor, case)
    prefetch_related_objects(entries, "amendments__amended_by", "amendments__partner")
    for e in entries:
        e.can_amend = casework_access.can_amend_entry(actor, e)
        for a in e.amendments.all():
            a.before = _before(a.previous)
    adversities = casework_selectors.case_adversities(actor, case)
    for a in adversities:
        a.label = label("adversities", a.code)
        a.group = group("adversities", a.code)
        a.can_share = a.sensitive and casework_access.can_share_adversity(actor, a)
    actions = list(
        casework_selectors.actions_with_related(
            casework_access.actions_visible_to(actor, case).select_related("owner_user")
        ).order_by("status", "due_date")
    )
    for a in actions:
        a.changeable = casework_access.can_change_action(actor, a)
    if actions:
        casework_access.log_records(actor, "action", actions, action="list")
    referrals = casework_selectors.case_referrals(actor, case)
    enrolments = list(
        programme_access.enrolments_visible_to(actor)
        .filter(case=case)
        .select_related("programme")
        .order_by("-referred_at")
    )
    if enrolments:
        programme_access.log_enrolment_access(actor, enrolments, action="list")
    seen = seen_by(actor, enrolments)  # eligibility as this reader may see it
    for e in enrolments:
        e.seen_eligibility = seen[e.pk]
    contributor = casework_access.partner_on_case(actor, case)
    return {
        "casework": True,
        "programmes_enabled": True,
        "entries": entries,
        "adversities": [a for a in adversities if a.group != "protective"],
        "strengths": [a for a in adversities if a.group == "protective"],
        "actions": actions,
        "referrals": referrals,
        "enrolments": enrolments,
        "contributor": contributor,
        "now": timezone.now(),
    }
