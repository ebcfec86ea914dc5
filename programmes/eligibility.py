"""Eligibility: a programme's rules evaluated against the person, the case and the intake details,
explained rule by rule so a coordinator sees which rule passed or failed, and why.

Each rule's outcome is `met`, `not_met` or `unknown` (e.g. no date of birth recorded). The person is
eligible when every rule is met, ineligible when any is not met, and undecided (`eligible: null`)
otherwise: a coordinator then decides, with a reason.

Adversities are case content, and some are sensitive (seen only by the recording partner and those
it shared them with). So the adversity rule is only ever evaluated on the records the acting user
may see (casework.access.adversities_visible_to): a coordinator who cannot open the case cannot
learn what is recorded on it by writing rules and re-checking (the rule is `unknown` for them).
What is stored on the enrolment is the evaluation as its author saw it; whoever reads it later sees
it through `seen_by`, which explains the adversity rule again from the records *that reader* may
see, never from the stored text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    explanation: str
    # What the rule checked (its configuration, not anything about the person), kept so that the
    # result can be explained again to another reader against the rule as it was evaluated.
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "explanation": self.explanation,
            **self.inputs,
        }


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
    field_name = rule.get("field", "cohort")
    allowed = rule["allowed"]
    value = (details or {}).get(field_name)
    listed = ", ".join(allowed)
    if value in (None, ""):
        return RuleResult(
            "cohort", UNKNOWN, f"No {field_name} given in the intake details; accepted: {listed}."
        )
    if value in allowed:
        return RuleResult("cohort", MET, f"Cohort '{value}' is one this programme accepts.")
    return RuleResult(
        "cohort", NOT_MET, f"Cohort '{value}' is not one this programme accepts ({listed})."
    )


def visible_adversity_codes(actor, cases, codes) -> dict[Any, set[str]]:
    """{case id: codes among `codes` recorded there in records the actor may see}, for each of
    `cases` the actor can open; a case the actor cannot open is absent (nothing is read from it).
    Two queries, whatever the number of cases. Imported lazily: programmes does not depend on case
    work at import time."""
    from cases.access import cases_visible_to
    from casework.access import adversities_visible_to

    case_ids = {getattr(c, "pk", c) for c in cases if c is not None}
    if actor is None or not case_ids:
        return {}
    visible = {
        pk: set()
        for pk in cases_visible_to(actor).filter(pk__in=case_ids).values_list("pk", flat=True)
    }
    if visible and codes:
        rows = (
            adversities_visible_to(actor)
            .filter(case_id__in=list(visible), code__in=sorted(set(codes)))
            .values_list("case_id", "code")
        )
        for case_id, code in rows:
            visible[case_id].add(code)
    return visible


def _adversity_rule(rule: dict, found: set[str] | None) -> RuleResult:
    """`found`: the required codes among the records the reader may see; None when the reader
    cannot open the case (then nothing about its records is said, either way)."""
    required = list(rule["codes"])
    match = rule.get("match", "all")
    inputs = {"codes": required, "match": match}
    listed = ", ".join(required)
    if found is None:
        return RuleResult(
            "adversities",
            UNKNOWN,
            f"Needs {listed if match == 'all' or len(required) == 1 else 'one of ' + listed} "
            "recorded on the case. You cannot open the case, so this is not checked for you: "
            "someone working the case can confirm it.",
            inputs,
        )
    found = {c for c in found if c in required}
    missing = [c for c in required if c not in found]
    if match == "any" and len(required) > 1:
        ok = bool(found)
        explanation = (
            f"Recorded on the case: {', '.join(sorted(found))} (one of {listed} is needed)."
            if ok
            else f"None of {listed} is recorded on the case in the records you can see; one of "
            "them is needed."
        )
    else:
        ok = not missing
        needed = "required" if len(required) == 1 else f"all of {listed} are needed"
        explanation = (
            f"Recorded on the case: {listed}."
            if ok
            else f"Not recorded on the case in the records you can see: {', '.join(missing)} "
            f"({needed})."
        )
    return RuleResult("adversities", MET if ok else NOT_MET, explanation, inputs)


def _verdict(outcomes: list[str]) -> tuple[bool | None, str]:
    if NOT_MET in outcomes:
        return False, "Not eligible: at least one rule is not met."
    if UNKNOWN in outcomes:
        return None, "Undecided: a rule could not be checked; a coordinator decides."
    if outcomes:
        return True, "Eligible: every rule is met."
    return True, "Eligible: the programme has no rules."


def evaluate(
    rules: dict[str, Any],
    *,
    actor,
    person,
    case,
    details: dict,
    on: date | datetime | None = None,
) -> dict[str, Any]:
    """The rule-by-rule result as `actor` sees it: adversities are read only from the records the
    actor may see on the case (nothing at all when they cannot open it). Stored on the enrolment;
    shown to anyone through `seen_by`."""
    when = on or timezone.now()
    day = timezone.localdate(when) if isinstance(when, datetime) else when
    rules = rules or {}
    results: list[RuleResult] = []
    if rules.get("age"):
        results.append(_age_rule(rules["age"], person, day))
    if rules.get("cohort"):
        results.append(_cohort_rule(rules["cohort"], details))
    if rules.get("adversities"):
        rule = rules["adversities"]
        seen = visible_adversity_codes(actor, [case], rule["codes"])
        results.append(_adversity_rule(rule, seen.get(getattr(case, "pk", None))))
    eligible, summary = _verdict([r.outcome for r in results])
    return {
        "eligible": eligible,
        "summary": summary,
        "evaluated_on": day.isoformat(),
        # When the rules were run (evaluated_on is the day age is judged on: the referral).
        "checked_at": timezone.now().isoformat(),
        "rules": [r.as_dict() for r in results],
    }


def eligibility_headline(programme, eligibility: dict) -> str:
    """One line, in words, for the person about to refer: "Not eligible: DIVERT custody
    coaching is for ages 18–25"; the verdict's summary when no single rule says more."""
    rules = programme.eligibility or {}
    failed = [r for r in eligibility.get("rules", []) if r.get("outcome") == NOT_MET]
    if failed and failed[0].get("rule") == "age" and rules.get("age"):
        return f"Not eligible: {programme.name} is for ages {_band(rules['age'])}"
    if failed and failed[0].get("rule") == "cohort":
        return f"Not eligible: {programme.name} does not take this cohort"
    return eligibility.get("summary", "")


def checked_at(eligibility: dict) -> datetime | None:
    """When the result was worked out; None for one stored before this was kept."""
    value = (eligibility or {}).get("checked_at")
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _adversity_config(enrolment, stored: dict) -> dict | None:
    if "codes" in stored:
        return {"codes": stored["codes"], "match": stored.get("match", "all")}
    # Evaluated before the rule's inputs were kept: explain it against the programme's rule.
    return (enrolment.programme.eligibility or {}).get("adversities")


def seen_by(actor, enrolments) -> dict[Any, dict[str, Any]]:
    """{enrolment id: its eligibility as `actor` may see it}. Age and cohort are shown as
    evaluated (the reader sees the person's age and the intake details anyway); every adversity
    rule is explained again from the records *this reader* may see on the case, and the verdict
    follows from that. So a stored result never tells a reader about a record they may not see,
    whoever evaluated it. With no actor, adversity rules are shown as not checked. At most two
    queries, whatever the number of enrolments."""
    enrolments = list(enrolments)
    configs = {}
    for e in enrolments:
        for index, stored in enumerate((e.eligibility or {}).get("rules", [])):
            if stored.get("rule") == "adversities":
                configs[(e.pk, index)] = _adversity_config(e, stored)
    codes = {c for config in configs.values() if config for c in config.get("codes", [])}
    needing = [e.case_id for e in enrolments if any(key[0] == e.pk for key in configs)]
    visible = visible_adversity_codes(actor, needing, codes) if configs else {}
    shown: dict[Any, dict[str, Any]] = {}
    for e in enrolments:
        stored_result = e.eligibility or {}
        if not any(key[0] == e.pk for key in configs):
            shown[e.pk] = stored_result
            continue
        rules = []
        for index, stored in enumerate(stored_result.get("rules", [])):
            config = configs.get((e.pk, index), False)
            if config is False:
                rules.append(stored)
            elif not config:
                rules.append(
                    {"rule": "adversities", "outcome": UNKNOWN, "explanation": "Not shown."}
                )
            else:
                rules.append(_adversity_rule(config, visible.get(e.case_id)).as_dict())
        eligible, summary = _verdict([r["outcome"] for r in rules])
        shown[e.pk] = {**stored_result, "eligible": eligible, "summary": summary, "rules": rules}
    return shown
