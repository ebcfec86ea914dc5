"""The information-rights pages: a manager asks for a pack, follows its progress, downloads it
and records it sent; restricts and lifts processing with a reason; the banner on the case page;
the web forms show the 409's message. Nobody else reaches any of it."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from governance import tasks
from governance.models import SubjectAccessRequest
from tests.factories import actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def rights_url(case):
    return f"/people/{case.subject_id}/information-rights/"


class TestSubjectAccessPages:
    def test_a_manager_asks_follows_downloads_and_records_it_sent(
        self, login, sergeant, police_case
    ):
        client = login(sergeant)
        case_page = client.get(f"/cases/{police_case.pk}/").content.decode()
        assert rights_url(police_case) in case_page
        client.post(f"/people/{police_case.subject_id}/subject-access/")
        request = SubjectAccessRequest.objects.get()
        page = client.get(rights_url(police_case)).content.decode()
        assert f'<progress id="progress-{request.pk}" max="100" value="0">' in page
        assert 'http-equiv="refresh"' in page

        tasks.generate_subject_access_pack(str(request.pk))
        page = client.get(rights_url(police_case)).content.decode()
        assert f"/subject-access/{request.pk}/download/" in page and "<progress" not in page
        download = client.get(f"/subject-access/{request.pk}/download/")
        assert download.status_code == 200 and download["Content-Type"] == "application/zip"
        assert AccessLog.objects.filter(
            action="download_subject_access", user=sergeant, channel="ui"
        ).exists()
        client.post(f"/subject-access/{request.pk}/answered/")
        request.refresh_from_db()
        assert request.answered_at is not None

    def test_practitioners_get_403_and_other_partners_404(
        self, login, officer, school_manager, outsider, sergeant, police_case
    ):
        from governance import services

        request = services.subject_access_request(actor=actor(sergeant), person=police_case.subject)
        tasks.generate_subject_access_pack(str(request.pk))
        assert login(officer).get(rights_url(police_case)).status_code == 403
        assert (
            rights_url(police_case)
            not in login(officer).get(f"/cases/{police_case.pk}/").content.decode()
        )
        # The school's manager sees the person (the case is shared), not the police's request.
        page = login(school_manager).get(rights_url(police_case))
        assert page.status_code == 200 and str(request.pk) not in page.content.decode()
        for path in (
            f"/subject-access/{request.pk}/download/",
            f"/subject-access/{request.pk}/answered/",
        ):
            assert login(school_manager).get(path).status_code == 404
        assert login(outsider).get(rights_url(police_case)).status_code == 403  # not a manager


class TestRestrictionPages:
    def test_restrict_then_the_banner_then_blocked_share_then_lift_with_a_reason(
        self, login, sergeant, officer, vru, police_case
    ):
        client = login(sergeant)
        url = f"/people/{police_case.subject_id}/restriction/"
        no_reason = client.post(url, {"reason": ""})
        assert no_reason.status_code == 200 and "Give a reason" in no_reason.content.decode()
        client.post(url, {"reason": "Contests accuracy"})
        case_page = login(officer).get(f"/cases/{police_case.pk}/").content.decode()
        assert "is restricted (UK GDPR Article 18)" in case_page

        refused = login(officer).post(
            f"/cases/{police_case.pk}/share/",
            {"partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake"},
        )
        assert refused.status_code == 200
        assert "restricted (UK GDPR Article 18)" in refused.content.decode()

        assert "Give a reason" in login(sergeant).post(url, {"reason": ""}).content.decode()
        login(sergeant).post(url, {"reason": "Corrected"})
        case_page = login(officer).get(f"/cases/{police_case.pk}/").content.decode()
        assert "is restricted (UK GDPR Article 18)" not in case_page

    def test_a_stranger_gets_404(self, login, police_case):
        from partners.models import Role
        from tests import factories

        stranger = factories.make_user(factories.make_partner(sector="probation"), Role.MANAGER)
        url = f"/people/{police_case.subject_id}/restriction/"
        assert login(stranger).post(url, {"reason": "x"}).status_code == 404
        assert login(stranger).get(rights_url(police_case)).status_code == 404
