"""Data sharing agreements over time (cases/agreements.py): status and document link, the review
reminder, a lapsed agreement refusing new shares and flagging its live shares, the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from cases import agreements, services
from cases.models import AgreementStatus, BreakGlassAccess, DataSharingAgreement, Share
from followups import kinds
from followups.models import FollowUp, Notification
from followups.services import followups_deliver_due
from tests.factories import actor
from vru.celery import app

pytestmark = pytest.mark.django_db


def share(case, partner, by):
    return services.case_share(
        actor=actor(by), case=case, partner=partner, lawful_basis="public_task", reason="Joint work"
    )


def lapse(agreement, how: str) -> None:
    today = timezone.localdate()
    if how == "ended":
        agreement.status = AgreementStatus.ENDED
        agreement.save()
    elif how == "end_date_passed":
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            ends_on=today - timedelta(days=1)
        )
    else:  # review overdue beyond the grace period
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=today - agreements.grace() - timedelta(days=1)
        )
    agreement.refresh_from_db()


def of_kind(kind):
    return FollowUp.objects.filter(kind=kind)


class TestStatusAndDocument:
    def test_the_document_link_must_be_http_or_https(self, agreement):
        agreement.document_url = "https://intranet.example/isa/northshire.pdf"
        agreement.full_clean()
        for bad in ("ftp://files.example/isa.pdf", "javascript:alert(1)", "not a link"):
            agreement.document_url = bad
            with pytest.raises(ValidationError):
                agreement.full_clean()

    def test_ending_an_agreement_records_the_day_it_ended(self, agreement):
        agreement.status = AgreementStatus.ENDED
        agreement.save()
        assert agreement.ends_on == timezone.localdate() - timedelta(days=1)
        assert not agreements.in_force(agreement)

    def test_under_review_is_still_in_force(self, agreement):
        agreement.status = AgreementStatus.UNDER_REVIEW
        agreement.save()
        assert agreements.in_force(agreement)

    def test_a_review_overdue_within_the_grace_period_is_still_in_force(self, agreement, settings):
        settings.AGREEMENT_REVIEW_GRACE_DAYS = 10
        today = timezone.localdate()
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=today - timedelta(days=10)
        )
        agreement.refresh_from_db()
        assert agreements.in_force(agreement)
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=today - timedelta(days=11)
        )
        agreement.refresh_from_db()
        assert not agreements.in_force(agreement)
        assert agreements.why_lapsed(agreement).startswith("was due for review on")


class TestSharingUnderALapsedAgreement:
    @pytest.mark.parametrize("how", ["ended", "end_date_passed", "review_overdue"])
    def test_a_new_share_is_refused_naming_the_agreement(
        self, api, officer, school, make_case, agreement, how
    ):
        lapse(agreement, how)
        case = make_case(summary="Police case")
        response = api(officer).post(
            f"/api/v1/cases/{case.id}/shares",
            {"partner": school.slug, "lawful_basis": "public_task", "reason": "Joint work"},
            format="json",
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert set(response.json()) == {"error"}
        assert error["code"] == "agreement_lapsed"
        assert "Northshire safeguarding ISA" in error["message"]
        assert not Share.objects.filter(case=case).exists()

    def test_the_web_share_form_says_why(self, client, officer, school, make_case, agreement):
        lapse(agreement, "ended")
        case = make_case(summary="Police case")
        client.force_login(officer)
        response = client.post(
            f"/cases/{case.id}/share/",
            {"partner": school.slug, "lawful_basis": "public_task", "reason": "Joint work"},
        )
        assert response.status_code == 200
        assert b"There is a problem" in response.content
        # The school is not offered; the page says which agreement lapsed, and how.
        page = response.content.decode()
        assert f'value="{school.slug}"' not in page
        assert f"{school.name}: the agreement “Northshire safeguarding ISA” ended" in page
        assert not Share.objects.filter(case=case).exists()

    def test_another_agreement_in_force_is_relied_on_instead(
        self, officer, police, school, make_case, agreement
    ):
        lapse(agreement, "ended")
        renewed = services.agreement_create(
            name="Northshire ISA 2026", parties=[police, school], review_date=agreement.review_date
        )
        made = share(make_case(summary="Police case"), school, officer)
        assert made.agreement == renewed

    def test_break_glass_cannot_rely_on_it_either(self, api, teacher, make_case, agreement):
        lapse(agreement, "ended")
        case = make_case(summary="Police case")
        response = api(teacher).post(
            f"/api/v1/cases/{case.id}/break-glass", {"reason": "Missing tonight"}, format="json"
        )
        assert response.status_code == 403
        assert not BreakGlassAccess.objects.exists()


class TestReviewReminder:
    def test_each_partys_managers_hear_thirty_days_before_once(
        self, agreement, police, school, vru, sergeant, school_manager, officer, teacher
    ):
        review = timezone.localdate() + timedelta(days=20)
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(review_date=review)
        assert agreements.sweep_reviews() == 3
        assert agreements.sweep_reviews() == 3  # again: nothing new
        reminders = of_kind(kinds.AGREEMENT_REVIEW)
        assert reminders.count() == 3
        assert {f.assignee_partner_id for f in reminders} == {police.pk, school.pk, vru.pk}
        for f in reminders:
            assert f.due_at.date() == review - timedelta(days=30)
            assert "Northshire safeguarding ISA" in f.title
        followups_deliver_due()
        told = set(Notification.objects.values_list("recipient_id", flat=True))
        assert told == {sergeant.pk, school_manager.pk}  # managers only: no practitioners
        followups_deliver_due()
        assert Notification.objects.count() == 2

    def test_far_off_or_ended_agreements_get_none_and_a_moved_date_cancels(self, agreement):
        assert agreements.sweep_reviews() == 0  # review_date in 2030
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=timezone.localdate() + timedelta(days=25)
        )
        # Reminded, not yet delivered; then the agreement is reviewed and its date moves on.
        agreements.sweep_reviews()
        assert of_kind(kinds.AGREEMENT_REVIEW).filter(status="pending").count() == 3
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=timezone.localdate() + timedelta(days=400)
        )
        agreements.sweep_reviews()
        assert not of_kind(kinds.AGREEMENT_REVIEW).filter(status="pending").exists()
        agreement.refresh_from_db()
        agreement.status = AgreementStatus.ENDED
        agreement.review_date = timezone.localdate() + timedelta(days=5)
        agreement.save()
        assert agreements.sweep_reviews() == 0


class TestLapsedAgreementFlagsItsShares:
    def test_one_follow_up_per_lead_partner_not_per_share_and_nothing_revoked(
        self, agreement, officer, teacher, police, school, vru, make_case, sergeant, school_manager
    ):
        police_cases = [make_case(summary=f"Police case {n}") for n in range(3)]
        for case in police_cases:
            share(case, school, officer)
        school_case = make_case(by=teacher, summary="School case")
        share(school_case, police, teacher)
        lapse(agreement, "ended")

        assert agreements.sweep_lapsed() == 2
        assert agreements.sweep_lapsed() == 0  # again: nothing new
        flagged = {f.assignee_partner_id: f for f in of_kind(kinds.AGREEMENT_LAPSED)}
        assert set(flagged) == {police.pk, school.pk}  # the VRU leads none of the shares
        assert "Northshire safeguarding ISA" in flagged[police.pk].title
        assert "3 case shares rely" in flagged[police.pk].title
        assert "1 case share relies" in flagged[school.pk].title
        # Not silently revoked: the lead partners review them.
        assert Share.objects.filter(revoked_at__isnull=True).count() == 4
        followups_deliver_due(now=timezone.now() + timedelta(days=1))  # due 09:00 on the lapse day
        told = set(Notification.objects.values_list("recipient_id", flat=True))
        assert told == {sergeant.pk, school_manager.pk}

    def test_an_agreement_renewed_and_lapsed_again_is_flagged_again(
        self, agreement, officer, school, make_case
    ):
        share(make_case(summary="Police case"), school, officer)
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            ends_on=timezone.localdate() - timedelta(days=10)
        )
        assert agreements.sweep_lapsed() == 1
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            ends_on=timezone.localdate() - timedelta(days=2)
        )
        assert agreements.sweep_lapsed() == 1
        assert of_kind(kinds.AGREEMENT_LAPSED).count() == 2

    def test_revoked_and_expired_shares_are_not_flagged(
        self, agreement, officer, school, make_case
    ):
        case = make_case(summary="Police case")
        share(case, school, officer)
        services.share_revoke(actor=actor(officer), case=case, partner=school, reason="Done")
        lapse(agreement, "end_date_passed")
        assert agreements.sweep_lapsed() == 0

    def test_its_cost_does_not_grow_with_the_shares(self, agreement, officer, school, make_case):
        share(make_case(summary="one"), school, officer)
        lapse(agreement, "ended")
        with CaptureQueriesContext(connection) as few:
            agreements.sweep_lapsed()
        FollowUp.objects.all().delete()
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            status=AgreementStatus.ACTIVE, ends_on=None
        )
        for n in range(5):
            share(make_case(summary=f"more {n}"), school, officer)
        lapse(agreement, "end_date_passed")
        with CaptureQueriesContext(connection) as many:
            agreements.sweep_lapsed()
        assert len(many) == len(few)


class TestPeriodicTask:
    def test_the_migration_installed_it_and_it_is_registered(self):
        row = PeriodicTask.objects.get(name="Data sharing agreement reviews")
        assert row.task == "cases.sweep_agreements" and row.enabled
        app.loader.import_default_modules()
        assert "cases.sweep_agreements" in app.tasks

    def test_running_it_twice_creates_nothing_twice(self, agreement, officer, school, make_case):
        share(make_case(summary="Police case"), school, officer)
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            review_date=timezone.localdate() + timedelta(days=3), ends_on=timezone.localdate()
        )
        app.loader.import_default_modules()
        app.tasks["cases.sweep_agreements"].apply().get()
        before = FollowUp.objects.count()
        app.tasks["cases.sweep_agreements"].apply().get()
        assert FollowUp.objects.count() == before > 0


class TestApi:
    def test_status_review_date_and_document_link_are_shown_to_parties_only(
        self, api, officer, outsider, agreement
    ):
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(
            status=AgreementStatus.UNDER_REVIEW, document_url="https://intranet.example/isa.pdf"
        )
        response = api(officer).get("/api/v1/agreements/")
        assert response.status_code == 200
        (item,) = response.json()["results"]
        assert item["status"] == "under_review"
        assert item["review_date"] == "2030-06-30"
        assert item["document_url"] == "https://intranet.example/isa.pdf"
        assert item["active"] is True
        assert api(outsider).get("/api/v1/agreements/").json()["results"] == []

    def test_active_says_whether_shares_may_rely_on_it_and_filters(self, api, officer, agreement):
        lapse(agreement, "review_overdue")
        (item,) = api(officer).get("/api/v1/agreements/").json()["results"]
        assert item["status"] == "active" and item["active"] is False
        assert api(officer).get("/api/v1/agreements/?active=true").json()["results"] == []
        assert len(api(officer).get("/api/v1/agreements/?active=false").json()["results"]) == 1
        assert len(api(officer).get("/api/v1/agreements/?status=active").json()["results"]) == 1
