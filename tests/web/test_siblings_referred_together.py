"""Brothers and sisters referred together: the same referral for each child, each on their own
case, linked so that whoever screens one sees the others they may see."""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AccessLog
from cases import services as case_services
from casework.models import Referral
from core.errors import Conflict
from tests.web.conftest import ui_actor

pytestmark = pytest.mark.django_db

REFERRAL = {
    "concerns": ["missing_episode"], "description": "Both missing overnight", "urgency": "standard",
}  # fmt: skip


@pytest.fixture
def mia(officer, case):
    """Jay's younger sister, in the household of Jay's case, with no case of her own."""
    actor = ui_actor(officer)
    mia = case_services.person_create(
        actor=actor,
        data={"given_name": "Mia", "family_name": "Clarke", "date_of_birth": date(2013, 5, 1)},
    )
    case_services.case_household_add(actor=actor, case=case, person=mia)
    case_services.relationship_add(actor=actor, person=mia, related_to=case.subject, kind="sibling")
    return mia


def test_the_referral_offers_the_brothers_and_sisters_the_referrer_can_see(
    login, officer, case, mia
):
    page = login(officer).get(f"/people/{case.subject_id}/new-referral/").content.decode()
    assert "Refer their brothers and sisters too?" in page
    assert f'value="{mia.pk}"' in page and "Mia Clarke" in page and "Brother or sister" in page


def test_siblings_referred_together_each_get_the_referral_on_their_own_case(
    login, officer, teacher, case, mia
):
    c = login(officer)
    response = c.post(
        f"/people/{case.subject_id}/new-referral/", {**REFERRAL, "siblings": [str(mia.pk)]},
        follow=True,
    )  # fmt: skip
    assert "The same referral was made for Mia Clarke" in response.content.decode()
    jays, mias = (Referral.objects.get(subject=p) for p in (case.subject, mia))
    assert jays.case_id == case.pk and mias.case_id != case.pk
    assert mias.case.subject_id == mia.pk and mias.case.lead_partner.slug == "police"
    assert jays.referred_with is not None and jays.referred_with == mias.referred_with
    assert (mias.description, mias.concerns) == ("Both missing overnight", ["missing_episode"])

    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "Referred together with" in page and mias.case.reference in page
    assert AccessLog.objects.filter(
        user=officer, action="list", object_type="referral", object_id=str(mias.pk)
    ).exists()
    # The school works Jay's case, not Mia's: it is not told of her referral or her case.
    shared = login(teacher).get(f"/cases/{case.pk}/").content.decode()
    assert "Referred together with" not in shared and mias.case.reference not in shared


def test_only_the_children_offered_can_be_referred(login, officer, case, mia):
    stranger = case_services.person_create(
        actor=ui_actor(officer), data={"given_name": "Kit", "family_name": "Lane"}
    )
    response = login(officer).post(
        f"/people/{case.subject_id}/new-referral/", {**REFERRAL, "siblings": [str(stranger.pk)]}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Referral.objects.exists()


def test_another_partner_sees_nothing(login, outsider, case, mia):
    assert login(outsider).get(f"/people/{case.subject_id}/new-referral/").status_code == 404
    response = login(outsider).post(
        f"/people/{case.subject_id}/new-referral/", {**REFERRAL, "siblings": [str(mia.pk)]}
    )
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_all_or_none(officer, sergeant, case, mia):
    from casework import services

    case_services.processing_restrict(actor=ui_actor(sergeant), person=mia, reason="Objected")
    with pytest.raises(Conflict):
        services.referrals_create_together(
            actor=ui_actor(officer), subjects=[case.subject, mia], concerns=["missing_episode"],
            description="Both missing", urgency="standard",
        )  # fmt: skip
    assert not Referral.objects.exists()
