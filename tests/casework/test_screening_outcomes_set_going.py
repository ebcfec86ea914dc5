"""What a screening outcome sets going: "early help" gives the named partner the task when the
decision takes effect (once); "programme referral" opens that programme's referral form, filled in
from what is known."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casework import services
from casework.models import Action, Screening
from core.errors import ValidationFailed
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(officer, case):
    return services.referral_create(
        actor=ui_actor(officer), concerns=["gang_association"], description="Seen with a gang",
        subject=case.subject, case=case,
    ).referral  # fmt: skip


@pytest.fixture
def urgent_referral(officer, case):
    return services.referral_create(
        actor=ui_actor(officer), concerns=["gang_association"], description="Knife seen",
        subject=case.subject, case=case, urgency="urgent",
    ).referral  # fmt: skip


def early_help_tasks(case):
    return Action.objects.filter(case=case, title__startswith="Early help assessment")


class TestEarlyHelp:
    def test_the_named_partner_gets_the_task_when_the_decision_takes_effect(
        self, officer, school, case, referral
    ):
        screening = services.referral_screen(
            actor=ui_actor(officer), referral=referral, outcome="early_help",
            reasons="Agreed with the DSL", early_help_partner=school,
        )  # fmt: skip
        [task] = early_help_tasks(case)
        assert task.owner_partner == school and task.owner_user is None
        assert task.due_date == timezone.localdate() + dt.timedelta(days=services.EARLY_HELP_DAYS)
        assert Screening.objects.get(pk=screening.pk).early_help_action == task

    def test_on_an_urgent_referral_only_once_confirmed_and_only_once(
        self, officer, teacher, school, case, urgent_referral
    ):
        services.referral_screen(
            actor=ui_actor(officer), referral=urgent_referral, outcome="early_help",
            reasons="Agreed", early_help_partner=school,
        )  # fmt: skip
        assert not early_help_tasks(case).exists()
        services.referral_screening_answer(
            actor=ui_actor(teacher), referral=urgent_referral, decision="confirm", reason="Yes"
        )
        assert early_help_tasks(case).count() == 1

    def test_the_partner_must_be_on_the_case(
        self, officer, school, outsider_partner, case, referral
    ):
        with pytest.raises(ValidationFailed) as elsewhere:
            services.referral_screen(
                actor=ui_actor(officer), referral=referral, outcome="early_help", reasons="x",
                early_help_partner=outsider_partner,
            )  # fmt: skip
        assert "early_help_partner" in elsewhere.value.fields
        with pytest.raises(ValidationFailed):
            services.referral_screen(
                actor=ui_actor(officer), referral=referral, outcome="no_further_action",
                reasons="x", early_help_partner=school,
            )  # fmt: skip
        assert not Screening.objects.exists() and not early_help_tasks(case).exists()

    def test_without_a_partner_named_no_task_is_given(self, officer, case, referral):
        # Partner systems built before the field existed keep working.
        services.referral_screen(
            actor=ui_actor(officer), referral=referral, outcome="early_help", reasons="x"
        )
        assert not early_help_tasks(case).exists()

    def test_the_web_asks_which_partner(self, client, officer, referral):
        client.force_login(officer)
        body = client.post(f"/referrals/{referral.pk}/screen/", {
            "outcome": "early_help", "reasons": "Agreed",
        }).content.decode()  # fmt: skip
        assert "Select the partner that does the early help" in body
        assert not Screening.objects.exists()

    def test_over_the_api(self, api, officer, school, case, referral):
        response = api(officer).post(
            f"/api/v1/referrals/{referral.pk}/screening",
            {"outcome": "early_help", "reasons": "Agreed", "early_help_partner": "school"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["early_help_partner"] == "school"
        assert body["early_help_action"] == str(early_help_tasks(case).get().pk)
        bad = api(officer).post(
            f"/api/v1/referrals/{referral.pk}/screening",
            {"outcome": "early_help", "reasons": "Agreed", "early_help_partner": "nowhere"},
            format="json",
        )
        assert bad.status_code in (400, 409)


class TestProgrammeReferral:
    def test_the_web_decision_opens_the_programmes_referral_form(
        self, client, officer, case, referral
    ):
        from programmes.catalogue import install_standard_programmes
        from programmes.models import Programme

        install_standard_programmes(Programme)
        client.force_login(officer)
        response = client.post(f"/referrals/{referral.pk}/screen/", {
            "outcome": "programme_referral", "reasons": "Eligible for coaching",
            "programme": "divert",
        })  # fmt: skip
        assert response.status_code == 302
        assert response["Location"] == (
            f"/cases/{case.pk}/programmes/divert/refer/?referral={referral.pk}"
        )
        page = client.get(response["Location"]).content.decode()
        assert "Agreed at the screening of the referral" in page

    def test_a_programme_only_with_that_outcome(self, client, officer, referral):
        from programmes.catalogue import install_standard_programmes
        from programmes.models import Programme

        install_standard_programmes(Programme)
        client.force_login(officer)
        body = client.post(f"/referrals/{referral.pk}/screen/", {
            "outcome": "information_only", "reasons": "Noted", "programme": "divert",
        }).content.decode()  # fmt: skip
        assert "Choose a programme only for a programme referral" in body
        assert not Screening.objects.exists()
