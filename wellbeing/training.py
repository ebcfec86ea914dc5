"""Trauma training against the National Trauma Training Framework, and when refreshers fall due.

Each level has a refresher interval (the table below, agreed by the partnership; change it here).
A refresher is due that long after the most recent training the person completed at that level or
a higher one; the person and their partner's managers hear about it REFRESHER_NOTICE ahead
(followups.sweeps.sweep_training_refreshers).
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from partners.models import TraumaTrainingLevel

# Lowest first: a higher level includes the ones below it.
LEVELS = [
    TraumaTrainingLevel.AWARE,
    TraumaTrainingLevel.INFORMED,
    TraumaTrainingLevel.SKILLED,
    TraumaTrainingLevel.ENHANCED,
    TraumaTrainingLevel.SPECIALIST,
]
RANK = {str(level): n for n, level in enumerate(LEVELS, start=1)}

# Months between refreshers, per level: the more a role works with trauma, the more often.
REFRESHER_MONTHS = {
    TraumaTrainingLevel.AWARE: 36,
    TraumaTrainingLevel.INFORMED: 36,
    TraumaTrainingLevel.SKILLED: 24,
    TraumaTrainingLevel.ENHANCED: 24,
    TraumaTrainingLevel.SPECIALIST: 12,
}
REFRESHER_NOTICE = timedelta(days=60)


def rank(level: str) -> int:
    """0 for "not recorded"."""
    return RANK.get(str(level), 0)


def refresher_due_on(level: str, completed_on: date) -> date:
    return completed_on + relativedelta(months=REFRESHER_MONTHS[TraumaTrainingLevel(level)])
