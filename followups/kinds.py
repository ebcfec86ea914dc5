"""The kinds of follow-up the sweeps create, who hears about them, and where a notification links.

Programme schedules (programmes/) add their own kinds through `followup_create`; any kind not listed
here is an ordinary follow-up: its assignee is told when it falls due.
"""

from __future__ import annotations

CASE_REVIEW = "case_review"
ACTION_OVERDUE = "action_overdue"
# Created by casework.referral_create for every referral (due at its screening deadline, marked
# done on screening); the missed-screening sweep backs it up for referrals that lack one.
SCREENING_OVERDUE = "screening_deadline"
SHARE_EXPIRING = "share_expiring"
CONSENT_EXPIRING = "consent_expiring"
# Monthly for staff on high-exposure work (subject: the user), or on the date agreed at the last
# check-in (subject: that check-in). Done only by a check-in signed off (wellbeing/services.py).
SUPERVISION_CHECK_IN = "supervision_check_in"
# Ahead of a trauma-training refresher's due date (wellbeing/training.py); subject: the user.
# Done by recording the training.
TRAINING_REFRESHER = "training_refresher"
RETENTION_REVIEW = "retention_review"
# A subject access request (governance/): a reminder a week before its one-month deadline, and
# an escalation on the day, for the requester and their partner's managers.
SUBJECT_ACCESS_DUE = "subject_access_due"
SUBJECT_ACCESS_OVERDUE = "subject_access_overdue"
# Data sharing agreements (cases/agreements.py): a review coming up, for each party's managers;
# an agreement that lapsed with live shares under it, for each lead partner's managers.
AGREEMENT_REVIEW = "agreement_review"
AGREEMENT_LAPSED = "agreement_lapsed"

# Claimed straight to `escalated`, not `notified`: the deadline has already been missed.
ESCALATION_KINDS = frozenset({SCREENING_OVERDUE, SUBJECT_ACCESS_OVERDUE})
# Assigned to a partner, these go to its managers only (oversight, staff wellbeing, retention).
MANAGER_KINDS = frozenset(
    {
        SCREENING_OVERDUE, SUPERVISION_CHECK_IN, RETENTION_REVIEW, SUBJECT_ACCESS_DUE,
        SUBJECT_ACCESS_OVERDUE, AGREEMENT_REVIEW, AGREEMENT_LAPSED, TRAINING_REFRESHER,
    }
)  # fmt: skip
# A member of staff's own wellbeing follow-up is theirs and their managers', nobody else's.
PRIVATE_KINDS = frozenset({SUPERVISION_CHECK_IN})
# Done by a record, not a button: marking them done would say a check-in or a course happened.
RECORD_KINDS = {
    SUPERVISION_CHECK_IN: "A supervision check-in is done when it is recorded and signed off.",
    TRAINING_REFRESHER: "A training refresher is done when the training is recorded.",
}

FOLLOWUPS_PATH = "/follow-ups/"


def notification_title(followup) -> str:
    """The follow-up's own title; an escalation says the deadline was missed."""
    if followup.kind in ESCALATION_KINDS:
        return f"Deadline missed, escalated to managers: {followup.title}"[:200]
    return followup.title


def link_for(followup) -> str:
    """A path in the app (never content): the case when there is one, else the follow-up list."""
    if followup.case_id:
        return f"/cases/{followup.case_id}"
    return FOLLOWUPS_PATH
