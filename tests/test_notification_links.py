"""Notifications (and their emails) send people to web pages, never to the JSON API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core import mail
from django.urls import resolve

from followups.emails import send_one
from followups.models import Notification
from programmes.models import Programme
from sync.models import WebhookSubscription
from sync.webhooks import _disable
from tests.programmes import conftest as programme_fixtures

# The programme fixtures (tests/programmes/conftest.py), for tests that live outside that folder.
other_coordinator = programme_fixtures.other_coordinator
programmes = programme_fixtures.programmes
divert = programme_fixtures.divert
make_case = programme_fixtures.make_case
refer = programme_fixtures.refer
move = programme_fixtures.move

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def assert_web_page(link: str) -> None:
    assert not link.startswith("/api/"), link
    match = resolve(link.split("#")[0].split("?")[0])
    assert match.namespace == "web", link


def test_programme_notifications_link_to_the_intake_board_and_the_enrolment(
    divert, make_case, refer, move, coordinator, officer
):
    Programme.objects.filter(pk=divert.pk).update(capacity=1)
    first = refer(divert, make_case(given_name="A"))
    told = Notification.objects.get(recipient=coordinator, kind="programme_referral")
    assert told.link == "/programmes/divert/intake/"
    second = refer(divert, make_case(given_name="B"))

    move(move(first, "eligibility_checked"), "offered")
    move(move(second, "eligibility_checked"), "waitlisted")
    offered = Notification.objects.filter(recipient=officer).exclude(link="").latest("created_at")
    assert offered.link == f"/enrolments/{first.pk}/"

    move(first, "withdrawn", reason="Moved away")  # frees the place; someone is waiting
    freed = Notification.objects.get(recipient=coordinator, kind="programme_place_free")
    assert freed.link == "/programmes/divert/intake/#col-waitlisted"

    links = set(Notification.objects.values_list("link", flat=True))
    assert len(links) >= 3
    for link in links:
        assert_web_page(link)


def test_the_email_carries_the_web_address(settings, divert, make_case, refer, coordinator):
    settings.SITE_URL = "https://vru.example"
    refer(divert, make_case())
    told = Notification.objects.get(recipient=coordinator, kind="programme_referral")
    send_one(told.pk)
    (email,) = [m for m in mail.outbox if coordinator.email in m.to]
    assert "https://vru.example/programmes/divert/intake/" in email.body
    assert "/api/" not in email.body


def test_a_disabled_webhook_does_not_link_to_the_api(police, sergeant):
    subscription = WebhookSubscription.objects.create(partner=police, url="https://rms.example/h")
    assert _disable(subscription, "20 failures in a row")
    told = Notification.objects.get(recipient=sergeant, kind="webhook_disabled")
    assert not told.link.startswith("/api/")


def test_no_service_writes_a_notification_link_into_the_api():
    """Every `link=` given in the application's code (tests and migrations aside)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "tests", "migrations", "bench", "node_modules", "var"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.keyword) and node.arg == "link":
                text = ast.unparse(node.value)
                if "/api/" in text:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno}: {text}")
    assert offenders == []
