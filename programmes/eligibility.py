"""Eligibility: a programme's rules evaluated against the person, the case and the intake details,
explained rule by rule so a coordinator sees which rule passed or failed, and why.

Each rule's outcome is `met`, `not_met` or `unknown` (e.g. no date of birth recorded). The person is
eligible when every rule is met, ineligible when any is not met, and undecided (`eligible: null`)
otherwise: a coordinator then decides, with a reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.utils import timezone

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    explanation: str


def age_on(date_of_birth: date | None, on: date) -> int | None:
    """Age in whole years on a given day."""
    if date_of_birth is None:
        return None
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


def _band(age: dict) -> str:
    low, high = age.get("min"), age.get("max")
    if low is not None and high is not None:
        return f"{low}–{high}"
    return f"{low} or over" if low is not None else f"{high} or under"


def _age_rule(rule: dict, person, on: date) -> RuleResult:
    band = _band(rule)
    age = age_on(person.date_of_birth, on)
    if age is None:
        return RuleResult(
            "age", UNKNOWN, f"No date of birth is recorded; the programme is for ages {band}."
        )
    approx = " (date of birth approximate)" if person.date_of_birth_approximate else ""
    low, high = rule.get("min"), rule.get("max")
    inside = (low is None or age >= low) and (high is None or age <= high)
    verb = "is within" if inside else "is outside"
    return RuleResult(
        "age",
        MET if inside else NOT_MET,
        f"Aged {age} at referral{approx}, which {verb} the age band {band}.",
    )


def _cohort_rule(rule: dict, details: dict) -> RuleResult:
    field = rule.get("field", "cohort")
    allowed = rule["allowed"]
    value = (details or {}).get(field)
    listed = ", ".join(allowed)
    if value in (None, ""):
        return RuleResult(
            "cohort", UNKNOWN, f"No {field} given in the intake details; accepted: {listed}."
        )
    if value in allowed:
        return RuleResult("cohort", MET, f"Cohort '{value}' is one this programme accepts.")
    return RuleResult(
        "cohort", NOT_MET, f"Cohort '{value}' is not one this programme accepts ({listed})."
    )


def recorded_adversity_codes(case, codes) -> set[str]:
    """Codes among `codes` recorded on the case. Read lazily so the programmes app does not
    depend on case work; no records (or no case-work app) means none recorded."""
    if case is None:
        return set()
    try:
        model = apps.get_model("casework", "AdversityRecord")
    except LookupError:
        return set()
    return set(
        model.objects.filter(case_id=case.pk, code__in=list(codes)).values_list("code", flat=True)
    )


def _adversity_rule(rule: dict, case) -> RuleResult:
    required = list(rule["codes"])
    match = rule.get("match", "all")
    found = recorded_adversity_codes(case, required)
    missing = [c for c in required if c not in found]
    listed = ", ".join(required)
    if match == "any" and len(required) > 1:
        ok = bool(found)
        explanation = (
            f"Recorded on the case: {', '.join(sorted(found))} (one of {listed} is needed)."
            if ok
            else f"None of {listed} is recorded on the case; one of them is needed."
        )
    else:
        ok = not missing
        needed = "required" if len(required) == 1 else f"all of {listed} are needed"
        explanation = (
            f"Recorded on the case: {listed}."
            if ok
            else f"Not recorded on the case: {', '.join(missing)} ({needed})."
        )
    return RuleResult("adversities", MET if ok else NOT_MET, explanation)


def evaluate(
    rules: dict[str, Any], *, person, case, details: dict, on: date | datetime | None = None
) -> dict[str, Any]:
    """The rule-by-rule result stored on the enrolment and shown to the coordinator."""
    when = on or timezone.now()
    day = timezone.localdate(when) if isinstance(when, datetime) else when
    rules = rules or {}
    results: list[RuleResult] = []
    if rules.get("age"):
        results.append(_age_rule(rules["age"], person, day))
    if rules.get("cohort"):
        results.append(_cohort_rule(rules["cohort"], details))
    if rules.get("adversities"):
        results.append(_adversity_rule(rules["adversities"], case))
    outcomes = {r.outcome for r in results}
    if NOT_MET in outcomes:
        eligible, summary = False, "Not eligible: at least one rule is not met."
    elif UNKNOWN in outcomes:
        eligible, summary = None, "Undecided: a rule could not be checked; a coordinator decides."
    else:
        eligible = True
        summary = (
            "Eligible: every rule is met." if results else "Eligible: the programme has no rules."
        )
    return {
        "eligible": eligible,
        "summary": summary,
        "evaluated_on": day.isoformat(),
        "rules": [asdict(r) for r in results],
    }
