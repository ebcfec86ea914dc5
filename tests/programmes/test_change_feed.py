"""Enrolments in the partner change feed follow enrolment visibility (sync/feed.py SELECTORS)."""

import pytest

from tests.sync.test_changes_feed import ids, read_all

pytestmark = pytest.mark.django_db


def test_an_enrolment_reaches_the_case_partners_and_its_coordinators_only(
    api, officer, outsider, coordinator, divert, case, refer
):
    enrolment = refer(divert, case)
    expected = ("enrolment", str(enrolment.pk), "created")
    assert expected in ids(read_all(api(officer))[0])
    assert expected in ids(read_all(api(coordinator))[0])
    assert ids(read_all(api(outsider))[0], "enrolment") == []
