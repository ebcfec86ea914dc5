"""The auditor's break-glass list: each use marked as reviewed (who, for which partner, when, an
optional note), once; only by auditors who may see that use; every review and refusal logged by
ids. And the access log reads as words: actions, record kinds and roles by their names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from audit.models import AccessLog, BreakGlassReview
from casework.services import break_glass_open, break_glass_review
from core.errors import Conflict, NotFound
from partners.models import Role
from tests import factories
from tests.factories import ui_actor
from web.access_log import ACCESS_ACTIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def use(outsider, case):
    """Someone at an unrelated partner opened the police's case with break-glass."""
    return break_glass_open(
        actor=ui_actor(outsider), case_id=case.pk, reason="Missing child, urgent"
    )


def review_url(event) -> str:
    return f"/audit/break-glass/{event.pk}/reviewed/"


class TestReviewing:
    def test_the_auditor_marks_a_use_as_reviewed(self, login, auditor, use, case):
        c = login(auditor)
        page = c.get("/audit/break-glass/").content.decode()
        assert "Mark as reviewed" in page and case.reference in page
        response = c.post(review_url(use), {"note": "Reason matched the emergency call"})
        assert response.status_code == 302
        review = BreakGlassReview.objects.get()
        assert (review.break_glass_id, review.reviewed_by, review.partner) == (
            use.pk, auditor, auditor.membership.partner,
        )  # fmt: skip
        assert review.note == "Reason matched the emergency call"
        row = AccessLog.objects.get(action="review_break_glass", allowed=True)
        assert (row.user, row.object_type, row.object_id, row.case_id) == (
            auditor, "break_glass", str(use.pk), case.pk,
        )  # fmt: skip
        assert "emergency call" not in str(row.detail) + row.justification
        page = c.get("/audit/break-glass/").content.decode()
        assert "Reviewed" in page and auditor.get_full_name() in page
        assert "Reason matched the emergency call" in page and "Mark as reviewed" not in page
        # The ones still to review: none left.
        page = c.get("/audit/break-glass/?show=to-review").content.decode()
        assert "Every break-glass use has been reviewed" in page

    def test_once_only(self, auditor, use):
        actor = ui_actor(auditor)
        break_glass_review(actor=actor, event_id=use.pk)
        with pytest.raises(Conflict) as refused:
            break_glass_review(actor=actor, event_id=use.pk, note="again")
        assert auditor.get_full_name() in refused.value.message
        assert BreakGlassReview.objects.count() == 1

    def test_says_so_on_the_page_when_already_reviewed(self, login, auditor, use):
        c = login(auditor)
        c.post(review_url(use))
        body = c.post(review_url(use), follow=True).content.decode()
        assert "was reviewed by" in body
        assert BreakGlassReview.objects.count() == 1

    @pytest.mark.parametrize("who", ["officer", "sergeant", "coordinator", "outsider"])
    def test_nobody_else_reviews(self, login, use, who, request):
        user = request.getfixturevalue(who)
        assert login(user).post(review_url(use)).status_code == 403
        with pytest.raises(NotFound):
            break_glass_review(actor=ui_actor(user), event_id=use.pk)
        assert not BreakGlassReview.objects.exists()
        assert AccessLog.objects.filter(
            user=user, action="review_break_glass", allowed=False, object_id=str(use.pk)
        ).exists()

    def test_an_auditor_outside_its_scope_gets_a_404(self, login, school, use, case):
        # The school's auditor sees uses by the school's staff and on cases the school leads.
        school_auditor = factories.make_user(school, Role.AUDITOR, email="ig@school.example")
        response = login(school_auditor).post(review_url(use))
        assert response.status_code == 404
        body = response.content.decode()
        assert case.reference not in body and "Missing child" not in body
        assert (
            "Missing child" not in login(school_auditor).get("/audit/break-glass/").content.decode()
        )
        assert not BreakGlassReview.objects.exists()
        assert AccessLog.objects.filter(
            user=school_auditor, action="review_break_glass", allowed=False
        ).exists()

    def test_an_unknown_use_is_a_404(self, login, auditor):
        missing = "9b2f0c1e-5d7a-4a53-9a53-2f1f8b8f0c11"
        assert login(auditor).post(f"/audit/break-glass/{missing}/reviewed/").status_code == 404
        assert AccessLog.objects.filter(object_id=missing, allowed=False).exists()

    def test_only_post(self, login, auditor, use):
        assert login(auditor).get(review_url(use)).status_code == 405


class TestReadableLog:
    def test_actions_roles_and_references_in_words(self, login, auditor, use, case):
        c = login(auditor)
        c.post(review_url(use))
        body = c.get(f"/audit/access-log/?case={case.reference}").content.decode()
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
        assert "Opened with emergency access" in text
        assert "Reviewed a use of emergency access" in text
        assert "Information governance / auditor" in text and ", auditor ·" not in text
        assert f"case {case.reference}" in text and str(case.pk) in text
        assert "review_break_glass" not in text and "break_glass " not in text

    def test_every_action_the_code_logs_has_words(self):
        """Every action code written by a call in the code base is labelled for the auditor."""
        base = Path(settings.BASE_DIR)
        codes: set[str] = set()
        for folder in ("audit", "cases", "casework", "core", "followups", "governance",
                       "partners", "programmes", "reports", "sso", "sync", "web",
                       "wellbeing"):  # fmt: skip
            for path in (base / folder).rglob("*.py"):
                if "migrations" in path.parts:
                    continue
                text = path.read_text()
                codes |= set(re.findall(r'\baction="([a-z_]+)"', text))
                codes |= set(re.findall(r'\blog_as="([a-z_]+)"', text))
        codes -= {"store_true", "store_false", "append"}  # argparse, not the access log
        missing = sorted(c for c in codes if c not in ACCESS_ACTIONS)
        assert not missing, f"access-log actions without words: {missing}"
