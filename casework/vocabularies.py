"""Published code lists (GET /api/v1/vocabularies/{name}).

Codes are stable: partner systems store them, reports group by them. Add codes; never rename or
reuse one. Labels may be reworded.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from cases.identifiers import Scheme
from cases.models import CaseStatus
from core.errors import NotFound, ValidationFailed
from partners.models import Role, Sector

VOCABULARIES_PATH = "/api/v1/vocabularies/"


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    group: str = ""


# The ten original ACEs (Felitti et al. 1998, as used in the Welsh ACE studies), the wider
# adversities and the protective factors from DESIGN.md §3.
ADVERSITIES: tuple[Item, ...] = (
    Item("physical_abuse", "Physical abuse", "ace"),
    Item("sexual_abuse", "Sexual abuse", "ace"),
    Item("verbal_abuse", "Verbal (emotional) abuse", "ace"),
    Item("physical_neglect", "Physical neglect", "ace"),
    Item("emotional_neglect", "Emotional neglect", "ace"),
    Item("parental_separation", "Parental separation", "ace"),
    Item("domestic_violence", "Domestic violence", "ace"),
    Item("parental_mental_illness", "Parental mental illness", "ace"),
    Item("substance_misuse", "Household substance misuse", "ace"),
    Item("parental_incarceration", "Parental incarceration", "ace"),
    Item("poverty", "Poverty", "wider"),
    Item("discrimination", "Discrimination and prejudice", "wider"),
    Item("bereavement", "Bereavement", "wider"),
    Item("bullying", "Bullying", "wider"),
    Item("community_violence", "Community violence", "wider"),
    Item("gang_involvement", "Gang involvement", "wider"),
    Item("migration", "Migration", "wider"),
    Item("peer_rejection", "Peer rejection", "wider"),
    Item("illness_or_accident", "Illness or accident", "wider"),
    Item("unsafe_environment", "Unsafe environment", "wider"),
    Item("trusted_adult", "A trusted adult", "protective"),
    Item("belonging", "Belonging to a group", "protective"),
    Item("purposeful_activity", "Purposeful activity", "protective"),
    Item("self_regulation", "Self-regulation skills", "protective"),
)


class ScreeningOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    INFORMATION_ONLY = "information_only", "Information only"
    EARLY_HELP = "early_help", "Early help"
    STATUTORY_SOCIAL_CARE = "statutory_social_care", "Statutory social care"
    PROGRAMME_REFERRAL = "programme_referral", "Programme referral"
    OTHER = "other", "Other"


# The group says whether the outcome led to support: what the NFA and "share leading to support"
# figures in DESIGN.md §1 count.
SCREENING_OUTCOME_GROUPS = {
    ScreeningOutcome.NO_FURTHER_ACTION: "no_support",
    ScreeningOutcome.INFORMATION_ONLY: "no_support",
    ScreeningOutcome.EARLY_HELP: "support",
    ScreeningOutcome.STATUTORY_SOCIAL_CARE: "support",
    ScreeningOutcome.PROGRAMME_REFERRAL: "support",
    ScreeningOutcome.OTHER: "other",
}

ENROLMENT_STATUSES: tuple[Item, ...] = (
    Item("referred", "Referred", "intake"),
    Item("eligibility_checked", "Eligibility checked", "intake"),
    Item("waitlisted", "Waitlisted", "intake"),
    Item("offered", "Offered a place", "intake"),
    Item("enrolled", "Enrolled", "active"),
    Item("active", "Active", "active"),
    Item("completed", "Completed", "ended"),
    Item("withdrawn", "Withdrawn", "ended"),
    Item("declined", "Declined", "ended"),
    Item("ineligible", "Ineligible", "ended"),
)

# What a referral is about. Police PPN categories plus the concerns schools and health raise.
CONCERNS: tuple[Item, ...] = (
    Item("domestic_abuse", "Domestic abuse in the household", "harm"),
    Item("physical_abuse", "Physical abuse", "harm"),
    Item("sexual_abuse", "Sexual abuse", "harm"),
    Item("emotional_abuse", "Emotional abuse", "harm"),
    Item("neglect", "Neglect", "harm"),
    Item("child_sexual_exploitation", "Child sexual exploitation", "exploitation"),
    Item("child_criminal_exploitation", "Child criminal exploitation", "exploitation"),
    Item("county_lines", "County lines", "exploitation"),
    Item("gang_association", "Gang association", "violence"),
    Item("weapon_carrying", "Carrying a knife or weapon", "violence"),
    Item("serious_violence", "Serious violence (victim or suspect)", "violence"),
    Item("missing_episode", "Missing from home or care", "welfare"),
    Item("mental_health", "Mental health", "welfare"),
    Item("substance_misuse", "Substance misuse", "welfare"),
    Item("school_exclusion", "School exclusion or absence", "welfare"),
    Item("online_harm", "Online harm", "welfare"),
    Item("radicalisation", "Radicalisation", "welfare"),
    Item("antisocial_behaviour", "Antisocial behaviour", "behaviour"),
    Item("parental_incarceration", "A parent in prison", "family"),
    Item("other", "Other", "other"),
)


class EntryKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    VISIT = "visit", "Visit"
    JOINT_VISIT = "joint_visit", "Joint visit"
    MEETING = "meeting", "Meeting"
    CUSTODY_CONTACT = "custody_contact", "Custody contact"
    DISCLOSURE = "disclosure", "Disclosure"
    UPDATE = "update", "Update"
    OTHER = "other", "Other"


def _choices(choices: type[models.TextChoices], groups: dict | None = None) -> tuple[Item, ...]:
    return tuple(Item(c.value, str(c.label), (groups or {}).get(c, "")) for c in choices)


VOCABULARIES: dict[str, tuple[Item, ...]] = {
    "adversities": ADVERSITIES,
    "sectors": _choices(Sector),
    "roles": _choices(Role),
    "case-statuses": _choices(CaseStatus),
    "screening-outcomes": _choices(ScreeningOutcome, SCREENING_OUTCOME_GROUPS),
    "enrolment-statuses": ENROLMENT_STATUSES,
    "identifier-schemes": _choices(Scheme),
    "concerns": CONCERNS,
    "entry-kinds": _choices(EntryKind),
}

_CODES = {name: {item.code for item in items} for name, items in VOCABULARIES.items()}


def vocabulary(name: str) -> tuple[Item, ...]:
    try:
        return VOCABULARIES[name]
    except KeyError:
        raise NotFound(
            f"There is no vocabulary called '{name}'. Published vocabularies: "
            f"{', '.join(VOCABULARIES)}."
        ) from None


def codes(name: str) -> set[str]:
    return _CODES[name]


def check_codes(name: str, values, *, field: str) -> list[str]:
    """The codes, de-duplicated in order; a 400 naming the vocabulary's URL for any unknown one."""
    values = list(dict.fromkeys(values))
    unknown = [v for v in values if v not in _CODES[name]]
    if unknown:
        quoted = ", ".join(f"'{v}'" for v in unknown)
        raise ValidationFailed(
            f"Unknown {field} code {quoted}: use a code from {VOCABULARIES_PATH}{name}.",
            fields={field: [f"unknown code {v}; see {VOCABULARIES_PATH}{name}" for v in unknown]},
        )
    return values


def label(name: str, code: str) -> str:
    return next((i.label for i in VOCABULARIES[name] if i.code == code), code)


def group(name: str, code: str) -> str:
    return next((i.group for i in VOCABULARIES[name] if i.code == code), "")
