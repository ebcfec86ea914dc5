"""The pages of joint screening: a proposal is labelled single-agency until another partner
confirms it, on the case page; those who may confirm or challenge it do so there, with a reason.
Also: My work shows when actions are due, and the access log reads as words with full ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases.models import Case
from casework import services
from casework.models import ScreeningConfirmation
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db

SINGLE = "Single-agency decision — awaiting confirmation by another partner"


@pytest.fixture
def urgent(officer, case):
    """An urgent police referral on the police-led case shared with the school."""
    return services.referral_create(
        actor=ui_actor(officer), concerns=["domestic_abuse"], urgency="urgent",
        description="PPN: officers attended a domestic incident.", subject=case.subject,
        case=case,
    ).referral  # fmt: skip


@pytest.fixture
def proposed(urgent, officer):
    services.referral_screen(
        actor=ui_actor(officer), referral=urgent, outcome="no_further_action",
        reasons="Family support already in place.",
    )  # fmt: skip
    return urgent


def page(client, case) -> str:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def answer_url(referral) -> str:
    return f"/referrals/{referral.pk}/screening/answer/"


class TestSingleAgencyDecision:
    def test_an_urgent_no_further_action_alone_stays_open_and_is_not_joint(
        self, login, officer, teacher, proposed, case
    ):
        body = page(login(officer), case)
        assert SINGLE in body and "Screened jointly" not in body
        assert "the case stays in screening" in body
        assert answer_url(proposed) not in body  # the proposer's partner cannot confirm it
        assert Case.objects.get(pk=case.pk).status == "screening"
        other = page(login(teacher), case)
        assert SINGLE in other and answer_url(proposed) in other  # the school may answer
        assert 'name="reason"' in other

    def test_proposing_on_the_web_says_it_is_single_agency(self, login, officer, urgent, case):
        c = login(officer)
        response = c.post(
            f"/referrals/{urgent.pk}/screen/",
            {"outcome": "no_further_action", "reasons": "Nothing further.", "participants": []},
            follow=True,
        )
        body = response.content.decode()
        assert "single-agency decision until another partner" in body
        assert SINGLE in body and Case.objects.get(pk=case.pk).status == "screening"
        # A second proposal is not offered while this one stands.
        again = c.get(f"/referrals/{urgent.pk}/screen/")
        assert again.status_code == 302 and again.url.endswith(f"#referral-{urgent.pk}")

    def test_the_other_partner_confirms_and_it_is_screened_jointly(
        self, login, officer, teacher, proposed, case
    ):
        c = login(teacher)
        response = c.post(
            answer_url(proposed), {"decision": "confirm", "reason": "Agreed with the DSL."}
        )
        assert response.status_code == 302
        assert response.url.endswith(f"/cases/{case.pk}/#referral-{proposed.pk}")
        body = page(login(officer), case)
        assert "Screened jointly" in body and SINGLE not in body
        assert "confirmed by Riverside School" in body and "Agreed with the DSL." in body
        assert Case.objects.get(pk=case.pk).status == "closed"
        row = AccessLog.objects.get(user=teacher, action="confirm_screening")
        assert row.channel == "ui" and row.object_id == str(proposed.pk)

    def test_a_challenge_reopens_it(self, login, officer, teacher, proposed, case):
        login(teacher).post(
            answer_url(proposed), {"decision": "challenge", "reason": "School has new concerns."}
        )
        body = page(login(officer), case)
        assert "was challenged by Riverside School" in body and "Record joint screening" in body
        assert "School has new concerns." in body
        assert Case.objects.get(pk=case.pk).status == "screening"

    def test_a_reason_is_required(self, login, teacher, proposed):
        response = login(teacher).post(answer_url(proposed), {"decision": "confirm"})
        assert response.status_code == 400
        assert "Give the reason for your answer" in response.content.decode()
        assert not ScreeningConfirmation.objects.exists()


class TestWhoMayAnswer:
    def test_the_proposers_own_partner_is_refused(self, login, officer, sergeant, proposed):
        for user in (officer, sergeant):
            c = login(user)
            assert c.get(answer_url(proposed)).status_code == 403
            posted = c.post(answer_url(proposed), {"decision": "confirm", "reason": "Fine."})
            assert posted.status_code == 403
        assert not ScreeningConfirmation.objects.exists()
        assert AccessLog.objects.filter(
            user=sergeant, action="confirm_screening", allowed=False
        ).exists()

    def test_an_outsider_finds_nothing(self, login, outsider, proposed):
        c = login(outsider)
        hidden = c.post(answer_url(proposed), {"decision": "confirm", "reason": "Fine."})
        missing = c.post(
            "/referrals/00000000-0000-0000-0000-000000000000/screening/answer/",
            {"decision": "confirm", "reason": "Fine."},
        )
        assert hidden.status_code == missing.status_code == 404
        assert b"Jay" not in hidden.content
        assert not ScreeningConfirmation.objects.exists()

    @pytest.mark.parametrize("persona", ["coordinator", "auditor"])
    def test_roles_that_do_not_work_cases_are_refused(
        self, login, coordinator, auditor, proposed, persona
    ):
        c = login({"coordinator": coordinator, "auditor": auditor}[persona])
        assert c.post(answer_url(proposed), {"decision": "confirm", "reason": "x"}).status_code == (
            403
        )
        assert not ScreeningConfirmation.objects.exists()


def test_my_work_shows_when_each_action_is_due(login, officer, case):
    due = timezone.localdate() + timedelta(days=3)
    services.action_create(
        actor=ui_actor(officer), case=case, title="Call the school", due_date=due
    )
    body = login(officer).get("/").content.decode()
    assert f"Call the school</a> – due {due.day} {due:%b} {due.year}" in body


def test_the_access_log_reads_as_words_with_full_ids(login, auditor, teacher, proposed, case):
    login(teacher).post(answer_url(proposed), {"decision": "confirm", "reason": "Agreed."})
    body = login(auditor).get("/audit/access-log/", {"case": case.reference}).content.decode()
    assert "Confirmed a screening decision" in body and "Proposed a screening decision" in body
    assert "confirm_screening" not in body
    assert str(proposed.pk) in body and str(case.subject_id) in body  # never cut short
    assert f"case {case.reference}" in body
    assert "Agreed." not in body  # still no content


def test_the_screening_queue_keeps_a_single_agency_urgent_decision(login, sergeant, proposed):
    body = login(sergeant).get("/manager/screening/").content.decode()
    assert "Jay Clarke" in body and "Single-agency decision" in body and "Overdue" not in body
