"""The three programmes every installation starts with (DESIGN.md §3), as plain data.

Loaded by the data migration 0002 and by `seed_demo`, and only ever created, never overwritten:
once installed, a programme belongs to its coordinators, who change it without code. A change
here therefore reaches new installations only; existing ones need a data migration of their own.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
# Filled in by the programme's own team (coach, mentor, coordinator), never asked of the referrer.
BY_PROGRAMME = {"x-filled-by": "programme"}
# (Migration 0005 marks the same fields on installations made before the marking.)


def _codes(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "label": label} for code, label in pairs]


DIVERT: dict[str, Any] = {
    "slug": "divert",
    "name": "DIVERT custody coaching",
    "description": (
        "Coaches approach young people aged 18 to 25 in police custody, at the teachable moment, "
        "and divert them into employment, education or training. Extended cohorts: care leavers "
        "and young people met in A&E."
    ),
    "capacity": 40,
    "duration_days": 182,
    "eligibility": {
        "age": {"min": 18, "max": 25},
        "cohort": {"field": "cohort", "allowed": ["custody", "care_leaver", "ae"]},
    },
    "intake_schema": {
        "$schema": SCHEMA,
        "title": "DIVERT intake",
        "type": "object",
        "additionalProperties": False,
        "required": ["cohort"],
        "properties": {
            "cohort": {
                "title": "Cohort",
                "enum": ["custody", "care_leaver", "ae"],
                "description": "custody, care leaver, or A&E patient",
            },
            "custody_suite": {
                "title": "Custody suite",
                "type": "string",
                "minLength": 1,
                "maxLength": 120,
            },
            "arrested_at": {"title": "Arrest time", "type": "string", "format": "date-time"},
            "approached_at": {
                "title": "Approach time",
                "type": "string",
                "format": "date-time",
                **BY_PROGRAMME,
            },
            "coach": {"title": "Coach", "type": "string", "maxLength": 120, **BY_PROGRAMME},
            "approach_outcome": {
                "title": "Outcome of the approach",
                "enum": ["engaged", "declined", "not_suitable", "not_approached"],
                **BY_PROGRAMME,
            },
            "pathway": {
                "title": "Pathway",
                "enum": ["employment", "education", "training"],
                **BY_PROGRAMME,
            },
        },
        # In custody, the suite and the moment of the approach are what the coach records.
        "if": {"properties": {"cohort": {"const": "custody"}}, "required": ["cohort"]},
        "then": {"required": ["custody_suite", "approached_at"]},
    },
    "followup_schedule": [
        {
            "kind": "divert_check_in",
            "title": "DIVERT check-in: first week",
            "anchor": "enrolled",
            "offset": {"weeks": 1},
        },
        {
            "kind": "divert_check_in",
            "title": "DIVERT check-in",
            "anchor": "enrolled",
            "offset": {"months": 1},
            "repeat": 6,
            "every": {"months": 1},
        },
    ],
    "milestones": _codes(
        ("first_coaching_session", "First coaching session"),
        ("cv_completed", "CV completed"),
        ("entered_employment", "Entered employment"),
        ("entered_education", "Entered education"),
        ("entered_training", "Entered training"),
    ),
    "outcomes": _codes(
        ("in_employment", "In employment at exit"),
        ("in_education", "In education at exit"),
        ("in_training", "In training at exit"),
        ("not_in_ete", "Not in employment, education or training at exit"),
        ("disengaged", "Stopped engaging"),
    ),
    "session_kinds": _codes(
        ("custody_approach", "Approach in custody"),
        ("coaching", "Coaching session"),
        ("check_in", "Check-in call"),
    ),
}

INVISIBLE_WALLS: dict[str, Any] = {
    "slug": "invisible-walls",
    "name": "Invisible Walls",
    "description": (
        "Keeps children and families connected to a parent in prison, and prepares them for the "
        "parent coming home. Referrals from schools and others."
    ),
    "capacity": 30,
    "duration_days": 365,
    "eligibility": {
        "age": {"max": 17},
        "adversities": {"codes": ["parental_incarceration"], "match": "all"},
    },
    "intake_schema": {
        "$schema": SCHEMA,
        "title": "Invisible Walls intake",
        "type": "object",
        "additionalProperties": False,
        "required": ["prison", "imprisoned_family_member"],
        "properties": {
            "prison": {"title": "Prison", "type": "string", "minLength": 1, "maxLength": 120},
            "imprisoned_family_member": {
                "title": "Imprisoned family member",
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "relationship"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "relationship": {
                        "enum": [
                            "father",
                            "mother",
                            "step_parent",
                            "carer",
                            "sibling",
                            "grandparent",
                            "other",
                        ]
                    },
                },
            },
            "expected_release_date": {
                "title": "Expected release date",
                "type": "string",
                "format": "date",
            },
            "children": {
                "title": "Children in the family",
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "date_of_birth": {"type": "string", "format": "date"},
                        "school": {"type": "string", "maxLength": 200},
                    },
                },
            },
            "materials_given": {
                "title": "Materials given",
                **BY_PROGRAMME,
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["title"],
                    "properties": {
                        "title": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "examples": ["What to expect when dad comes home"],
                        },
                        "given_on": {"type": "string", "format": "date"},
                    },
                },
            },
            "family_sessions": {
                "title": "Family sessions wanted",
                "type": "array",
                "uniqueItems": True,
                "items": {
                    "enum": [
                        "prison_visit",
                        "family_day",
                        "video_call",
                        "homework_club",
                        "release_preparation",
                    ]
                },
            },
        },
    },
    "followup_schedule": [
        {
            "kind": "invisible_walls_review",
            "title": "Invisible Walls family review",
            "anchor": "enrolled",
            "offset": {"months": 1},
            "repeat": 4,
            "every": {"months": 3},
        },
        {
            "kind": "invisible_walls_release_preparation",
            "title": "Invisible Walls: prepare the family for release",
            "anchor": "details.expected_release_date",
            "offset": {"weeks": -12},
            "repeat": 3,
            "every": {"weeks": 4},
        },
        {
            "kind": "invisible_walls_after_release",
            "title": "Invisible Walls: check in after release",
            "anchor": "details.expected_release_date",
            "offset": {"weeks": 2},
        },
    ],
    "milestones": _codes(
        ("first_family_session", "First family session"),
        ("materials_given", "Materials given"),
        ("school_informed", "School informed and supporting"),
        ("release_home", "Parent released home"),
    ),
    "outcomes": _codes(
        ("family_connected", "Family stayed connected"),
        ("release_home_supported", "Return home supported"),
        ("moved_away", "Moved out of the area"),
        ("disengaged", "Stopped engaging"),
    ),
    "session_kinds": _codes(
        ("family_session", "Family session"),
        ("prison_visit", "Supported prison visit"),
        ("one_to_one", "One-to-one with the child"),
        ("release_preparation", "Release preparation"),
    ),
}

STREET_AND_ARROW: dict[str, Any] = {
    "slug": "street-and-arrow",
    "name": "Street and Arrow",
    "description": (
        "A 12-month paid placement for people with convictions, each paired with a "
        "lived-experience mentor, with therapy and resilience group work."
    ),
    "capacity": 12,
    "duration_days": 365,
    "eligibility": {
        "age": {"min": 18},
        "cohort": {"field": "cohort", "allowed": ["previous_conviction", "on_licence"]},
    },
    "intake_schema": {
        "$schema": SCHEMA,
        "title": "Street and Arrow intake",
        "type": "object",
        "additionalProperties": False,
        "required": ["cohort"],
        "properties": {
            "cohort": {"title": "Cohort", "enum": ["previous_conviction", "on_licence"]},
            "placement_start": {
                "title": "Placement start",
                "type": "string",
                "format": "date",
                **BY_PROGRAMME,
            },
            "placement_end": {
                "title": "Placement end (12 months on)",
                **BY_PROGRAMME,
                "type": "string",
                "format": "date",
            },
            "mentor": {
                "title": "Lived-experience mentor",
                **BY_PROGRAMME,
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "lived_experience": {"type": "boolean", "default": True},
                },
            },
            "therapy_provider": {
                "title": "Therapy provider",
                "type": "string",
                "maxLength": 200,
                **BY_PROGRAMME,
            },
            "group_work": {
                "title": "Group work",
                **BY_PROGRAMME,
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": ["resilience", "therapy_group", "peer_support"]},
            },
        },
    },
    "followup_schedule": [
        {
            "kind": "street_and_arrow_mentor_review",
            "title": "Street and Arrow monthly mentor review",
            "anchor": "enrolled",
            "offset": {"months": 1},
            "repeat": 12,
            "every": {"months": 1},
        },
        {
            "kind": "street_and_arrow_exit_planning",
            "title": "Street and Arrow: month-11 exit planning",
            "anchor": "enrolled",
            "offset": {"months": 11},
        },
    ],
    "milestones": _codes(
        ("placement_started", "Placement started"),
        ("three_months_sustained", "Three months sustained"),
        ("six_months_sustained", "Six months sustained"),
        ("completed_placement", "Completed the placement"),
        ("entered_employment", "Entered employment"),
    ),
    "outcomes": _codes(
        ("completed_into_work", "Completed, moving into work"),
        ("completed", "Completed the placement"),
        ("left_for_work", "Left early for other work"),
        ("left_early", "Left early"),
    ),
    "session_kinds": _codes(
        ("mentoring", "Mentoring"),
        ("therapy", "Therapy"),
        ("group_work", "Resilience group work"),
        ("placement_review", "Placement review"),
    ),
}

STANDARD_PROGRAMMES = (DIVERT, INVISIBLE_WALLS, STREET_AND_ARROW)


def install_standard_programmes(programme_model) -> list:
    """Create whichever of the three are missing (by slug); never change existing ones.

    Takes the model class so the data migration can pass its historical model."""
    created = []
    for definition in STANDARD_PROGRAMMES:
        fields = {k: v for k, v in definition.items() if k != "slug"}
        programme, was_created = programme_model.objects.get_or_create(
            slug=definition["slug"], defaults=fields
        )
        if was_created:
            created.append(programme)
    return created
