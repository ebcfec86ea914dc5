"""Break-glass from the web: a practitioner asks, with a reason, to read a case not shared with
their organisation. Nothing is looked up until they confirm; restricted looks like missing."""

from __future__ import annotations

import re

import pytest

from audit.models import AccessLog
from cases.models import BreakGlassAccess, Case
from followups.models import Notification

pytestmark = pytest.mark.django_db

URL = "/cases/emergency-access/"
REASON = "Reported missing overnight; police need the family's contacts now"


def _ask(client, reference, **extra):
    return client.post(URL, {"reference": reference, "reason": REASON, "confirm": "on", **extra})


def _strip(response) -> bytes:
    """The page without CSRF tokens and the reference typed in (the only things that may differ)."""
    body = re.sub(rb'value="[^"]{32,}"', b"", response.content)
    return re.sub(rb"VRU-\d{4}-\d{6}", b"REF", body)


class TestEmergencyAccess:
    def test_it_opens_the_case_for_a_limited_time_and_tells_the_lead_partners_managers(
        self, login, outsider, sergeant, case, settings
    ):
        c = login(outsider)
        page = c.get(URL, {"reference": case.reference}).content.decode()
        assert f"{settings.BREAK_GLASS_HOURS} hours" in page and "told straight away" in page
        response = _ask(c, case.reference.lower())
        assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
        grant = BreakGlassAccess.objects.get(user=outsider, case=case)
        assert grant.reason == REASON
        assert Notification.objects.filter(recipient=sergeant, kind="break_glass").exists()
        row = AccessLog.objects.get(user=outsider, action="break_glass", allowed=True)
        assert row.case_id == case.pk and row.channel == "ui"

        body = c.get(response.url).content.decode()
        assert "Emergency access" in body and "Jay Clarke" in body and "Northshire Police" in body
        assert "Add an entry" not in body  # read-only
        assert AccessLog.objects.filter(
            user=outsider, action="view", case_id=case.pk, justification="break-glass access"
        ).exists()

    def test_asking_reveals_nothing_until_the_request_is_confirmed(self, login, outsider, case):
        c = login(outsider)
        real = c.get(URL, {"reference": case.reference})
        made_up = c.get(URL, {"reference": "VRU-2001-000001"})
        assert real.status_code == made_up.status_code == 200
        assert _strip(real) == _strip(made_up)
        # Someone who then declines (does not confirm) gets the same page either way.
        declined = c.post(URL, {"reference": case.reference, "reason": REASON})
        declined_made_up = c.post(URL, {"reference": "VRU-2001-000001", "reason": REASON})
        assert "Confirm that you understand" in declined.content.decode()
        assert _strip(declined) == _strip(declined_made_up)
        assert not BreakGlassAccess.objects.exists()
        assert not AccessLog.objects.filter(user=outsider, object_id=str(case.pk)).exists()
        assert b"Jay" not in declined.content

    def test_a_restricted_case_is_refused_exactly_like_a_missing_one(self, login, outsider, case):
        Case.objects.filter(pk=case.pk).update(restricted=True)
        c = login(outsider)
        restricted = _ask(c, case.reference)
        missing = _ask(c, "VRU-2001-000001")
        assert restricted.status_code == missing.status_code == 200
        assert "No case that can be opened with emergency access" in restricted.content.decode()
        assert _strip(restricted) == _strip(missing)
        assert not BreakGlassAccess.objects.exists()
        refusals = AccessLog.objects.filter(user=outsider, action="break_glass", allowed=False)
        assert {r.object_id for r in refusals} == {str(case.pk), "VRU-2001-000001"}

    def test_a_reason_is_required(self, login, outsider, case):
        body = login(outsider).post(URL, {"reference": case.reference, "confirm": "on"})
        assert "Say why you need to see this case now" in body.content.decode()
        short = _ask(login(outsider), case.reference, reason="urgent")
        assert "Give a little more detail" in short.content.decode()
        assert not BreakGlassAccess.objects.exists()

    def test_someone_who_can_already_see_the_case_is_just_taken_to_it(self, login, teacher, case):
        response = _ask(login(teacher), case.reference)
        assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
        assert not BreakGlassAccess.objects.exists()

    @pytest.mark.parametrize("who", ["sergeant", "coordinator", "auditor"])
    def test_only_practitioners_may_ask(self, login, case, who, request):
        c = login(request.getfixturevalue(who))
        assert c.get(URL).status_code == 403
        assert _ask(c, case.reference).status_code == 403
        assert not BreakGlassAccess.objects.exists()

    def test_search_offers_it_to_practitioners_with_the_reference_filled_in(
        self, login, outsider, sergeant, case
    ):
        body = login(outsider).get("/cases/", {"q": case.reference}).content.decode()
        assert "0 cases found" in body
        assert f"/cases/emergency-access/?reference={case.reference}" in body
        assert (
            "Request emergency access"
            not in login(sergeant).get("/cases/", {"q": case.reference}).content.decode()
        )
