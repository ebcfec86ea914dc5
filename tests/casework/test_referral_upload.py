"""Referrals uploaded as a CSV file on the web: checked at the edge, kept privately until imported by
the Celery task (the importer `manage.py import_referrals` uses), per-row errors without the rows'
contents, safe to deliver twice; only the uploader's partner sees the job, only people who make
referrals upload; every step access-logged by ids."""

from __future__ import annotations

import json
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AccessLog
from casework import tasks, uploads
from casework.models import Referral, ReferralUpload
from core.errors import Forbidden, ValidationFailed
from followups.models import OutboxMessage
from partners.models import Role
from tests import factories
from tests.casework.conftest import logged
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db

CSV = """Reference,Given name,Family name,Date of birth,NHS number,Concerns,Description,Urgency
UP-1,Kai,Thompson,23/05/2011,9434765919,missing_episode;child_criminal_exploitation,Missing overnight,urgent
UP-2,Leah,,2014-01-09,,parental_incarceration,Dad in prison,
UP-3,Tom,Jones,31/02/2012,,neglect,Unkempt,
UP-4,Ben,Ito,2013-02-02,,neglect|school_exclusion,Excluded twice,standard
"""
MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.REFERRAL_UPLOAD_DIR = tmp_path / "uploads"


def start(user, content: str | bytes = CSV, name: str = "referrals.csv") -> ReferralUpload:
    data = content.encode() if isinstance(content, str) else content
    return uploads.referral_upload_start(actor=ui_actor(user), file_name=name, content=data)


def stored(settings) -> list:
    folder = settings.REFERRAL_UPLOAD_DIR
    return sorted(folder.iterdir()) if folder.exists() else []


def post_file(client, content: str | bytes, name: str = "referrals.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        reverse("web:referral-upload"), {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


class TestUploadAndImport:
    def test_the_file_is_kept_privately_and_the_import_queued(self, officer, agreement, settings):
        job = start(officer)
        assert (job.status, job.progress, job.rows, job.file_name) == (
            "queued",
            0,
            4,
            "referrals.csv",
        )
        [path] = stored(settings)
        assert path.name == f"{job.pk}.csv"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        message = OutboxMessage.objects.get(task_name=uploads.IMPORT_TASK)
        assert message.kwargs == {"upload_id": str(job.pk)}
        row = logged(officer, action="upload", object_type="referral_upload").get()
        assert row.object_id == str(job.pk) and row.detail == {"count": 4}
        assert not Referral.objects.exists()  # nothing is imported before the task runs

    def test_the_task_imports_valid_rows_and_lists_the_others(self, officer, agreement, settings):
        job = start(officer)
        assert tasks.import_referral_upload(str(job.pk)) == "done"
        job.refresh_from_db()
        assert (job.status, job.progress) == ("done", 100)
        assert (job.rows, job.created, job.skipped, job.failed) == (4, 2, 0, 2)
        assert job.errors == [
            {"row": 3, "field": "family_name", "message": "Required values are missing. "
             "(this column is required)"},
            {"row": 4, "field": "date_of_birth", "message": "Not a date. "
             "(use YYYY-MM-DD or DD/MM/YYYY)"},
        ]  # fmt: skip
        assert job.started_at and job.finished_at and job.failure == ""
        # The errors name rows and columns, never what the rows said.
        kept = json.dumps(job.errors)
        for value in ("Leah", "Tom", "Jones", "31/02/2012", "Unkempt", "Dad in prison"):
            assert value not in kept
        # The file is gone once the job finished.
        assert stored(settings) == []
        kai = Referral.objects.get(source_reference="UP-1")
        assert (kai.channel, kai.submitted_by, kai.urgency) == ("csv", officer, "urgent")
        assert kai.case.lead_partner_id == officer.membership.partner_id
        # Each referral is logged as the API and the command log it: created, by the uploader.
        created = logged(officer, action="create", object_type="referral")
        assert {r.object_id for r in created} == {str(r.pk) for r in Referral.objects.all()}
        assert {(r.channel, r.justification) for r in created} == {
            ("ui", "referral sent by this partner")
        }

    def test_identifier_errors_name_the_column(self, officer, agreement):
        content = (
            "given_name,family_name,concerns,description,upn,nhs_number\n"
            "Kai,Thompson,neglect,One,,123\n"
        )
        job = start(officer, content)
        tasks.import_referral_upload(str(job.pk))
        job.refresh_from_db()
        assert [(e["row"], e["field"]) for e in job.errors] == [(2, "nhs_number")]
        assert "10 digits" in job.errors[0]["message"] and "123" not in job.errors[0]["message"]

    def test_uploading_the_same_file_again_imports_nothing_twice(self, officer, agreement):
        tasks.import_referral_upload(str(start(officer).pk))
        again = start(officer)
        tasks.import_referral_upload(str(again.pk))
        again.refresh_from_db()
        assert (again.created, again.skipped, again.failed) == (0, 2, 2)
        assert Referral.objects.count() == 2

    def test_a_cp1252_file_from_excel_is_read(self, officer, agreement):
        content = "given_name,family_name,concerns,description\nZoë,Brontë,neglect,Café\n"
        job = start(officer, content.encode("cp1252"))
        tasks.import_referral_upload(str(job.pk))
        assert Referral.objects.get().subject.given_name == "Zoë"


class TestDeliveredTwice:
    def test_a_finished_job_is_left_alone(self, officer, agreement):
        job = start(officer)
        assert tasks.import_referral_upload(str(job.pk)) == "done"
        finished = ReferralUpload.objects.get(pk=job.pk)
        assert tasks.import_referral_upload(str(job.pk)) == "nothing to do"
        again = ReferralUpload.objects.get(pk=job.pk)
        assert (again.finished_at, again.created, again.errors) == (
            finished.finished_at,
            finished.created,
            finished.errors,
        )
        assert Referral.objects.count() == 2
        assert tasks.import_referral_upload(MISSING) == "nothing to do"

    def test_a_crashed_run_is_taken_over_without_duplicates(self, officer, agreement, settings):
        job = start(officer)
        tasks.import_referral_upload(str(job.pk))
        # As if the worker died after saving the rows: the job was left running, file in place.
        path = settings.REFERRAL_UPLOAD_DIR / f"{job.pk}.csv"
        path.write_text(CSV, encoding="utf-8")
        ReferralUpload.objects.filter(pk=job.pk).update(status="running", progress=40)
        assert tasks.import_referral_upload(str(job.pk)) == "done"
        job.refresh_from_db()
        assert (job.status, job.created, job.skipped, job.failed) == ("done", 0, 2, 2)
        assert Referral.objects.count() == 2 and not path.exists()

    def test_a_run_overtaken_by_another_leaves_the_job_to_it(
        self, officer, agreement, settings, monkeypatch
    ):
        job = start(officer)
        original = uploads.import_referrals_csv

        def overtaken(**kwargs):
            # Another delivery claims the job while this one is importing.
            ReferralUpload.objects.filter(pk=job.pk).update(claim=MISSING)
            return original(**kwargs)

        monkeypatch.setattr(uploads, "import_referrals_csv", overtaken)
        assert tasks.import_referral_upload(str(job.pk)) == "taken over"
        job.refresh_from_db()
        assert job.status == "running" and job.finished_at is None
        # The file stays for the run that holds the job.
        assert stored(settings) == [settings.REFERRAL_UPLOAD_DIR / f"{job.pk}.csv"]

    def test_an_unexpected_error_fails_the_job_and_removes_the_file(
        self, officer, agreement, settings, monkeypatch
    ):
        job = start(officer)

        def broken(**kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr(uploads, "import_referrals_csv", broken)
        assert tasks.import_referral_upload(str(job.pk)) == "failed"
        job.refresh_from_db()
        assert job.status == "failed" and "Upload it again" in job.failure
        assert "database" not in job.failure and stored(settings) == []
        assert tasks.import_referral_upload(str(job.pk)) == "nothing to do"

    def test_an_uploader_who_may_no_longer_refer_imports_nothing(
        self, officer, agreement, settings
    ):
        job = start(officer)
        officer.membership.role = Role.COORDINATOR
        officer.membership.save()
        assert tasks.import_referral_upload(str(job.pk)) == "failed"
        job.refresh_from_db()
        assert "can no longer send referrals" in job.failure
        assert not Referral.objects.exists() and stored(settings) == []


class TestTheFileIsCheckedAtTheEdge:
    def test_by_default_files_wait_in_a_private_directory_under_var_dir(self):
        from vru import settings as configured

        assert configured.REFERRAL_UPLOAD_DIR == configured.VAR_DIR / "private" / "referral-uploads"
        assert configured.FILE_UPLOAD_MAX_MEMORY_SIZE >= configured.REFERRAL_UPLOAD_MAX_BYTES

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("referrals.xlsx", CSV, "The selected file must be a CSV"),
            ("referrals.csv", b"PK\x03\x04\x00\x00binary", "The selected file must be a CSV"),
            ("referrals.csv", b"\xff\xfe\x00\x00", "The selected file must be a CSV"),
            ("referrals.csv", "  \n", "The selected file is empty"),
            ("referrals.csv", "given_name,description\nKai,x\n", "family_name, concerns"),
            ("referrals.csv", "given_name,family_name,concerns,description\n", "no referrals"),
            # A field longer than Python's csv module reads (131,072 characters).
            (
                "referrals.csv",
                "given_name,family_name,concerns,description\nKai,T,neglect," + "x" * 140000,
                "as a CSV",
            ),
        ],
    )
    def test_a_bad_file_is_refused_before_anything_is_kept(
        self, officer, settings, name, content, message
    ):
        with pytest.raises(ValidationFailed) as refused:
            start(officer, content, name)
        assert message in refused.value.message and "file" in refused.value.fields
        assert not ReferralUpload.objects.exists() and stored(settings) == []
        assert not OutboxMessage.objects.exists()

    def test_the_size_limit_is_a_setting(self, officer, settings):
        settings.REFERRAL_UPLOAD_MAX_BYTES = 1024
        with pytest.raises(ValidationFailed) as refused:
            start(officer, CSV + "x" * 1024)
        assert refused.value.message == "The selected file must be smaller than 1.0 KB"

    def test_the_row_limit_is_the_importers(self, officer, monkeypatch):
        monkeypatch.setattr(uploads, "MAX_ROWS", 3)
        with pytest.raises(ValidationFailed) as refused:
            start(officer)
        assert "3 rows or fewer" in refused.value.message

    def test_the_file_name_is_kept_without_folders(self, officer, agreement):
        job = start(officer, name="C:\\Users\\pc\\Desktop\\March\x07 referrals.csv")
        assert job.file_name == "March referrals.csv"


class TestWhoMayUpload:
    @pytest.mark.parametrize("who", ["coordinator", "auditor"])
    def test_roles_that_do_not_refer_are_refused_and_logged(self, request, who, settings):
        user = request.getfixturevalue(who)
        with pytest.raises(Forbidden):
            start(user)
        assert logged(user, action="upload", object_type="referral_upload", allowed=False).exists()
        assert not ReferralUpload.objects.exists() and stored(settings) == []

    def test_a_partner_system_uploads_through_the_api_not_here(self, police):
        from casework import access
        from partners.actor import actor_for_client
        from partners.services import api_client_create

        client, _ = api_client_create(partner=police, name="RMS", scopes="write")
        assert not access.can_upload_referrals(actor_for_client(client))


class TestPages:
    def test_upload_then_follow_the_job_to_its_errors(self, client, officer, agreement):
        client.force_login(officer)
        new = client.get(reverse("web:referral-new"))
        assert reverse("web:referral-upload") in new.content.decode()
        form = client.get(reverse("web:referral-upload"))
        assert form.status_code == 200 and 'class="govuk-file-upload"' in form.content.decode()

        posted = post_file(client, CSV)
        job = ReferralUpload.objects.get()
        assert posted.status_code == 302
        assert posted["Location"] == reverse("web:referral-upload-job", args=[job.pk])
        running = client.get(posted["Location"]).content.decode()
        assert "<progress" in running and 'value="0"' in running
        progress_url = reverse("web:referral-upload-progress", args=[job.pk])
        assert client.get(progress_url).json() == {
            "status": "queued",
            "status_text": "Waiting to start",
            "progress": 0,
            "finished": False,
            "url": posted["Location"],
        }

        tasks.import_referral_upload(str(job.pk))
        assert client.get(progress_url).json()["finished"] is True
        done = client.get(posted["Location"]).content.decode()
        assert "<progress" not in done and "2 referrals imported" in done
        assert 'id="upload-errors"' in done and "date_of_birth" in done and "Not a date." in done
        assert "Leah" not in done and "31/02/2012" not in done
        views = logged(officer, action="view", object_type="referral_upload")
        assert views.count() == 2 and {v.object_id for v in views} == {str(job.pk)}
        listed = client.get(reverse("web:referral-upload")).content.decode()
        assert "referrals.csv" in listed and "2 imported, 2 with problems" in listed

    @pytest.mark.parametrize(
        ("content", "name", "message"),
        [
            ("a,b\n1,2\n", "notes.txt", "The selected file must be a CSV"),
            (b"", "referrals.csv", "The selected file is empty"),
            ("given_name\nKai\n", "referrals.csv", "must have these columns"),
        ],
    )
    def test_a_bad_file_gets_a_govuk_error(self, client, officer, content, name, message):
        client.force_login(officer)
        response = post_file(client, content, name)
        page = response.content.decode()
        assert response.status_code == 200
        assert "govuk-error-summary" in page and message in page
        assert 'href="#id_file"' in page and "govuk-file-upload--error" in page
        assert not ReferralUpload.objects.exists()

    def test_no_file_selected(self, client, officer):
        client.force_login(officer)
        response = client.post(reverse("web:referral-upload"), {})
        assert response.status_code == 200 and "Select a CSV file" in response.content.decode()

    def test_a_file_over_the_limit_gets_a_govuk_error(self, client, officer, settings):
        settings.REFERRAL_UPLOAD_MAX_BYTES = 1024
        client.force_login(officer)
        response = post_file(client, CSV + "x" * 4096)
        assert "must be smaller than 1.0 KB" in response.content.decode()
        assert not ReferralUpload.objects.exists()

    @pytest.mark.parametrize("who", ["coordinator", "auditor"])
    def test_roles_that_do_not_refer_get_403(self, client, request, who, officer, agreement):
        job = start(officer)
        client.force_login(request.getfixturevalue(who))
        for url in (
            reverse("web:referral-upload"),
            reverse("web:referral-upload-job", args=[job.pk]),
            reverse("web:referral-upload-progress", args=[job.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 403 and "referrals.csv" not in response.content.decode()
        assert post_file(client, CSV).status_code == 403
        assert ReferralUpload.objects.count() == 1

    @pytest.mark.parametrize("who", ["teacher", "outsider"])
    def test_another_partners_job_is_a_404_and_not_listed(
        self, client, request, who, officer, agreement
    ):
        job = start(officer, name="police-march.csv")
        tasks.import_referral_upload(str(job.pk))
        user = request.getfixturevalue(who)
        client.force_login(user)
        for url in (
            reverse("web:referral-upload-job", args=[job.pk]),
            reverse("web:referral-upload-progress", args=[job.pk]),
            reverse("web:referral-upload-job", args=[MISSING]),
        ):
            response = client.get(url)
            assert response.status_code == 404
            assert "police-march" not in response.content.decode()
        assert "police-march" not in client.get(reverse("web:referral-upload")).content.decode()
        refused = logged(user, object_type="referral_upload", allowed=False)
        assert {r.object_id for r in refused} == {str(job.pk), MISSING}
        assert not AccessLog.objects.filter(
            user=user, object_type="referral_upload", allowed=True
        ).exists()

    def test_a_colleague_sees_the_partners_uploads(self, client, officer, police, agreement):
        job = start(officer)
        colleague = factories.make_user(police, Role.MANAGER, email="inspector@police.example")
        client.force_login(colleague)
        assert client.get(reverse("web:referral-upload-job", args=[job.pk])).status_code == 200
