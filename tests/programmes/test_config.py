"""The shapes of programme configuration, the seeded catalogue, and follow-up schedule dates."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ValidationFailed
from programmes.catalogue import STANDARD_PROGRAMMES
from programmes.config import validate_config, validate_details
from programmes.services import CONFIG_FIELDS, _add_months, followup_dates


@pytest.mark.parametrize("definition", STANDARD_PROGRAMMES, ids=lambda d: d["slug"])
def test_the_catalogue_is_valid_configuration(definition):
    validate_config({name: definition[name] for name in CONFIG_FIELDS})


def test_the_seeded_intake_fields_are_the_ones_the_programmes_record():
    by_slug = {d["slug"]: set(d["intake_schema"]["properties"]) for d in STANDARD_PROGRAMMES}
    assert by_slug["divert"] == {
        "cohort", "custody_suite", "arrested_at", "approached_at", "coach", "approach_outcome",
        "pathway",
    }  # fmt: skip
    assert by_slug["invisible-walls"] == {
        "prison", "imprisoned_family_member", "expected_release_date", "children",
        "materials_given", "family_sessions",
    }  # fmt: skip
    assert by_slug["street-and-arrow"] == {
        "cohort", "placement_start", "placement_end", "mentor", "therapy_provider", "group_work",
    }  # fmt: skip


def test_an_empty_intake_schema_accepts_any_object():
    validate_details({}, {"anything": 1})


def test_errors_name_each_field_once():
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "integer"}, "b": {"type": "string", "maxLength": 2}},
    }
    with pytest.raises(ValidationFailed) as raised:
        validate_details(schema, {"b": "long"})
    assert raised.value.fields == {
        "details.a": ["This field is required."],
        "details.b": ["'long' is too long"],
    }


class TestSchedules:
    def test_months_clamp_to_the_end_of_shorter_months(self):
        assert _add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
        assert _add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
        assert _add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)

    def test_repeats_and_negative_offsets(self):
        schedule = [
            {"kind": "monthly", "title": "M", "anchor": "enrolled", "offset": {"months": 1},
             "repeat": 3, "every": {"months": 1}},
            {"kind": "before", "title": "B", "anchor": "details.release", "offset": {"weeks": -6}},
            {"kind": "nothing", "title": "N", "anchor": "details.missing", "offset": {"days": 1}},
        ]  # fmt: skip
        due = followup_dates(
            schedule, enrolled_on=date(2026, 1, 31), details={"release": "2026-09-01"}
        )
        assert [(item["kind"], day) for item, day in due] == [
            ("monthly", date(2026, 2, 28)),
            ("monthly", date(2026, 3, 31)),
            ("monthly", date(2026, 4, 30)),
            ("before", date(2026, 7, 21)),
        ]

    def test_street_and_arrow_has_monthly_reviews_and_month_eleven_exit_planning(self):
        [definition] = [d for d in STANDARD_PROGRAMMES if d["slug"] == "street-and-arrow"]
        due = followup_dates(
            definition["followup_schedule"], enrolled_on=date(2026, 1, 15), details={}
        )
        reviews = [day for item, day in due if item["kind"] == "street_and_arrow_mentor_review"]
        assert len(reviews) == 12
        assert reviews[0] == date(2026, 2, 15) and reviews[-1] == date(2027, 1, 15)
        exit_planning = [
            day for item, day in due if item["kind"] == "street_and_arrow_exit_planning"
        ]
        assert exit_planning == [date(2026, 12, 15)]
