"""`manage.py import_referrals FILE --partner S`: valid rows kept, errors by row number, a re-run
creates nothing new."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AccessLog
from cases.models import Person
from casework.models import Referral

GOOD_AND_BAD = """Reference,Given name,Family name,Date of birth,NHS number,Concerns,Description,Urgency,Received at
PPN-1,Kai,Thompson,23/05/2011,9434765919,missing_episode;child_criminal_exploitation,Missing overnight,urgent,2026-01-05 14:30
PPN-2,Leah,,2014-01-09,,parental_incarceration,Dad in prison,,
PPN-3,Tom,Jones,31/02/2012,,neglect,Unkempt,,
PPN-4,Ana,Silva,2012-04-04,,bad_code,Something,,
PPN-5,Ben,Ito,2013-02-02,,neglect|school_exclusion,Excluded twice,standard,
"""


def run(tmp_path, content, *args):
    path = tmp_path / "referrals.csv"
    path.write_text(content, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    error = None
    try:
        call_command("import_referrals", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        error = exc
    return out.getvalue(), err.getvalue(), error


@pytest.mark.django_db
class TestImportReferrals:
    def test_valid_rows_are_kept_and_errors_named_by_row(self, tmp_path, police, agreement):
        out, err, error = run(tmp_path, GOOD_AND_BAD, "--partner", "police")
        assert Referral.objects.count() == 2
        assert set(Referral.objects.values_list("source_reference", flat=True)) == {
            "PPN-1",
            "PPN-5",
        }
        assert "row 3:" in err and "family_name" in err
        assert "row 4:" in err and "date_of_birth" in err
        assert "row 5:" in err and "/api/v1/vocabularies/concerns" in err
        assert "row 2:" not in err and "row 6:" not in err
        assert "Importing [" in err and "5/5" in err  # the progress bar, on stderr
        assert "Imported 2 referral(s) from 5 row(s)" in out
        assert error is not None and "3 row(s) had errors" in str(error)
        kai = Referral.objects.get(source_reference="PPN-1")
        assert kai.urgency == "urgent" and kai.channel == "csv"
        assert kai.concerns == ["missing_episode", "child_criminal_exploitation"]
        assert kai.subject.identifiers.get().value == "9434765919"
        assert kai.case.status == "screening" and kai.case.lead_partner == police
        assert kai.received_at.isoformat().startswith("2026-01-05T14:30")
        # Every write is logged, as the partner's import identity, through the sync channel.
        row = AccessLog.objects.filter(
            action="create", object_type="referral", object_id=str(kai.id)
        ).get()
        assert row.client.name == "CSV import" and row.channel == "sync"

    def test_a_rerun_creates_no_duplicates(self, tmp_path, police, agreement):
        run(tmp_path, GOOD_AND_BAD, "--partner", "police")
        people = Person.objects.count()
        out, _, _ = run(tmp_path, GOOD_AND_BAD, "--partner", "police")
        assert Referral.objects.count() == 2 and Person.objects.count() == people
        assert "Imported 0 referral(s) from 5 row(s); 2 already imported" in out

    def test_without_a_reference_column_rows_are_keyed_by_their_contents(
        self, tmp_path, police, agreement
    ):
        content = "given_name,family_name,concerns,description\nKai,Thompson,neglect,One\nKai,Thompson,neglect,Two\n"
        _, _, error = run(tmp_path, content, "--partner", "police")
        assert error is None and Referral.objects.count() == 2
        run(tmp_path, content.replace("\n", "\r\n"), "--partner", "police")
        assert Referral.objects.count() == 2
        # The second row's subject was recorded by the same partner with the same details: a
        # possible duplicate for screening, not silently merged.
        assert Referral.objects.filter(source_reference__startswith="csv:").count() == 2

    def test_as_a_named_user(self, tmp_path, officer, agreement):
        content = "given_name,family_name,concerns,description\nKai,Thompson,neglect,One\n"
        _, _, error = run(tmp_path, content, "--partner", "police", "--user", officer.email)
        assert error is None
        assert Referral.objects.get().submitted_by == officer

    def test_a_user_of_another_partner_is_refused(self, tmp_path, teacher, police):
        content = "given_name,family_name,concerns,description\nKai,Thompson,neglect,One\n"
        _, _, error = run(tmp_path, content, "--partner", "police", "--user", teacher.email)
        assert error is not None and not Referral.objects.exists()

    def test_missing_columns_are_reported_as_row_1(self, tmp_path, police):
        _, err, error = run(tmp_path, "given_name,description\nKai,x\n", "--partner", "police")
        assert "row 1: Missing columns: family_name, concerns" in err and error is not None

    def test_an_unknown_partner_or_file_is_an_error(self, tmp_path, police):
        with pytest.raises(CommandError):
            call_command("import_referrals", str(tmp_path / "nope.csv"), "--partner", "police")
        _, _, error = run(tmp_path, "x\n", "--partner", "nobody")
        assert error is not None
