"""Uploading referrals as a CSV file, in real headless Chromium: a practitioner uploads a small file
with one bad row, watches the progress bar finish (the page asks the server; the Celery task is run
here, as a worker would) and reads which row was not imported and why. axe-core on each page.

Uses the browser, personas and helpers of tests/web/test_browser.py.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.web import test_browser
from tests.web.test_browser import CHROMIUM, Session

journey_data = test_browser.journey_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"
    ),
]

CSV = (
    "reference,given_name,family_name,date_of_birth,concerns,description\n"
    "NP-101,Riley,Hart,2011-04-02,missing_episode,Missing overnight from home\n"
    "NP-102,Morgan,Lee,31/02/2012,neglect,Arrived hungry three days running\n"
)


def test_a_partner_without_an_api_uploads_referrals(
    browser, live_server, journey_data, settings, tmp_path
):
    from casework import tasks
    from casework.models import Referral, ReferralUpload

    settings.DEBUG = False
    settings.REFERRAL_UPLOAD_DIR = tmp_path / "uploads"
    officer = Session(browser, live_server.url, journey_data["officer"])
    page = officer.page

    officer.go("/referrals/new/")
    page.click("text=Upload them as a CSV file")
    expect(page.locator("h1")).to_have_text("Upload referrals")
    officer.axe("upload referrals")

    # Nothing chosen: the GOV.UK error summary and the field's own error.
    page.click("button:has-text('Upload and import')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a CSV file")
    expect(page.locator("#id_file-error")).to_contain_text("Select a CSV file")
    officer.axe("upload referrals, with an error")

    page.set_input_files(
        "#id_file",
        files=[{"name": "march.csv", "mimeType": "text/csv", "buffer": CSV.encode()}],
    )
    page.click("button:has-text('Upload and import')")
    expect(page.locator("h1")).to_have_text("Upload: march.csv")
    expect(page.locator("progress#upload-progress-bar")).to_be_visible()
    officer.axe("upload in progress")

    # The worker's part; the page, polling, moves on to the results by itself.
    job = ReferralUpload.objects.get()
    assert tasks.import_referral_upload(str(job.pk)) == "done"
    expect(page.locator(".govuk-panel__title")).to_have_text("Import finished", timeout=15000)
    expect(page.locator("progress")).to_have_count(0)
    expect(page.locator(".govuk-panel__body")).to_have_text("1 referral imported")
    rows = page.locator("#upload-errors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(0)).to_have_text("3")
    expect(rows.first.locator("td").nth(1)).to_have_text("date_of_birth")
    expect(rows.first.locator("td").nth(2)).to_contain_text("Not a date.")
    expect(page.locator("body")).not_to_contain_text("Morgan")
    officer.axe("upload finished")
    assert Referral.objects.get().source_reference == "NP-101"
    assert not list((tmp_path / "uploads").iterdir())

    # Another partner's practitioner cannot reach the job by its address.
    officer.close()
    outsider = Session(browser, live_server.url, journey_data["outsider"])
    assert outsider.go(f"/referrals/uploads/{job.pk}/") == 404
    outsider.go("/referrals/upload/")
    expect(outsider.page.locator("body")).not_to_contain_text("march.csv")
    outsider.close()
