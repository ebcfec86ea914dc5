"""Webhooks: subscriptions, Standard Webhooks signatures checked by a real local receiver,
retries with back-off, disabling with a notice to the partner's managers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.utils import timezone

from cases import services as case_services
from followups.models import Notification
from sync import webhooks
from sync.models import WebhookDelivery, WebhookSubscription
from tests import factories
from tests.factories import actor as as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(settings):
    """The receiver below listens on 127.0.0.1, which webhooks refuse by default: allow it as an
    operator allows an on-premises partner's network (test_webhook_ssrf.py tests the refusals)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> dict:
    """What a partner's receiver does (docs/integration.md), written independently of sync/."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise ValueError("timestamp outside tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise ValueError("bad signature")


class Receiver:
    """An HTTP server on 127.0.0.1 that verifies every delivery and answers `status`."""

    def __init__(self):
        self.secret = None
        self.status = 204
        self.received: list[dict] = []
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    event = verify(receiver.secret, self.headers, body)
                    receiver.received.append({"id": self.headers["webhook-id"], **event})
                    status = receiver.status
                except (ValueError, KeyError) as exc:
                    receiver.rejected.append(str(exc))
                    status = 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vru"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def subscribe(api, receiver):
    def make(token, event_types=("*",)):
        response = api(token).post(
            "/api/v1/webhooks/",
            {"url": receiver.url, "event_types": list(event_types)},
            format="json",
        )
        assert response.status_code == 201, response.content
        receiver.secret = response.json()["secret"]
        return WebhookSubscription.objects.get(pk=response.json()["id"])

    return make


def run_deliveries() -> list[str]:
    """What the workers do: fan out, then one attempt at each due delivery."""
    webhooks.fan_out()
    due = WebhookDelivery.objects.filter(status="pending", next_attempt_at__lte=timezone.now())
    return [webhooks.deliver(pk) for pk in due.values_list("pk", flat=True)]


class TestSubscriptions:
    def test_the_secret_is_shown_once(self, api, police_system, receiver):
        client = api(police_system)
        created = client.post(
            "/api/v1/webhooks/",
            {"url": receiver.url, "event_types": ["case.created", "case.updated"]},
            format="json",
        )
        assert created.status_code == 201
        secret = created.json()["secret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
        listed = client.get("/api/v1/webhooks/").json()["results"]
        assert [s["id"] for s in listed] == [created.json()["id"]]
        assert "secret" not in listed[0]

    def test_delete(self, api, police_system, school_system, subscribe):
        subscription = subscribe(police_system)
        assert api(school_system).delete(f"/api/v1/webhooks/{subscription.pk}").status_code == 404
        assert api(police_system).delete(f"/api/v1/webhooks/{subscription.pk}").status_code == 204
        assert api(police_system).get("/api/v1/webhooks/").json()["results"] == []
        assert api(police_system).delete(f"/api/v1/webhooks/{subscription.pk}").status_code == 404

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"url": "ftp://example.org/x", "event_types": ["*"]}, "url"),
            ({"url": "https://example.org/x", "event_types": ["case.exploded"]}, "event_types.0"),
            ({"url": "https://example.org/x", "event_types": []}, "event_types"),
            ({"url": "https://user:pw@example.org/x", "event_types": ["*"]}, "url"),
        ],
    )
    def test_bad_subscriptions_are_400(self, api, police_system, body, field):
        response = api(police_system).post("/api/v1/webhooks/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]

    def test_who_may_manage_them(self, api, police, officer, sergeant, receiver):
        body = {"url": receiver.url, "event_types": ["*"]}
        assert api(officer).post("/api/v1/webhooks/", body, format="json").status_code == 403
        assert api(sergeant).post("/api/v1/webhooks/", body, format="json").status_code == 201
        write_only = factories.client_token(police, "read,write")
        assert api(write_only).post("/api/v1/webhooks/", body, format="json").status_code == 403


class TestDelivery:
    def test_signed_events_reach_a_real_receiver(
        self, officer, police_system, subscribe, receiver, make_case
    ):
        subscription = subscribe(police_system)
        case = make_case(summary="Seen with older peers")
        assert run_deliveries() == ["delivered", "delivered"]
        assert receiver.rejected == []
        types = [(e["type"], e["data"]["id"]) for e in receiver.received]
        assert types == [("person.created", str(case.subject_id)), ("case.created", str(case.pk))]
        # Ids and event types only: nothing personal travels.
        event = receiver.received[1]
        assert set(event) == {"id", "type", "timestamp", "data"}
        assert set(event["data"]) == {"resource", "id", "action", "cursor"}
        assert "Seen with" not in json.dumps(receiver.received)
        assert subscription.deliveries.filter(status="delivered").count() == 2
        assert run_deliveries() == []  # nothing is sent twice

    def test_only_subscribed_and_visible_events_are_sent(
        self, school, school_system, subscribe, receiver, make_case, share_with
    ):
        subscribe(school_system, ["case.updated", "case.revoked"])
        hidden = make_case(summary="Police only")
        shared = make_case()
        share_with(shared, school)
        run_deliveries()
        assert [(e["type"], e["data"]["id"]) for e in receiver.received] == [
            ("case.updated", str(shared.pk))
        ]
        assert str(hidden.pk) not in json.dumps(receiver.received)

    def test_a_revocation_is_delivered_to_the_partner_that_lost_access(
        self, officer, school, school_system, subscribe, receiver, make_case, share_with
    ):
        case = make_case()
        share_with(case, school)
        subscribe(school_system)
        case_services.share_revoke(actor=as_actor(officer), case=case, partner=school)
        run_deliveries()
        assert [e["type"] for e in receiver.received] == ["case.revoked", "person.revoked"]

    def test_failures_back_off_then_succeed_with_the_same_webhook_id(
        self, police_system, subscribe, receiver, make_person, django_capture_on_commit_callbacks
    ):
        subscribe(police_system)
        make_person()
        receiver.status = 503
        with django_capture_on_commit_callbacks() as callbacks:
            assert run_deliveries() == ["pending"]
        delivery = WebhookDelivery.objects.get()
        assert delivery.attempts == 1 and delivery.last_status_code == 503
        assert delivery.last_error_category == "http_5xx"
        assert 20 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 40
        assert callbacks  # the retry is scheduled with a countdown
        assert webhooks.deliver(delivery.pk) == "skipped"  # not due yet
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        receiver.status = 200
        assert webhooks.deliver(delivery.pk) == "delivered"
        first, second = receiver.received
        assert first["id"] == second["id"] == str(delivery.pk)

    def test_a_retry_hours_away_is_left_to_the_sweep_not_queued_in_redis(
        self, police_system, subscribe, receiver, make_person, django_capture_on_commit_callbacks
    ):
        """Nothing waits in the broker longer than RETRY_COUNTDOWN_MAX, so the broker's
        visibility timeout (how late a task held by a killed worker comes back) stays short."""
        subscribe(police_system)
        make_person()
        receiver.status = 503
        webhooks.fan_out()
        WebhookDelivery.objects.update(attempts=9)  # the tenth failure backs off for hours
        with django_capture_on_commit_callbacks() as callbacks:
            assert run_deliveries() == ["pending"]
        delivery = WebhookDelivery.objects.get()
        assert delivery.next_attempt_at - timezone.now() > webhooks.RETRY_COUNTDOWN_MAX
        assert not callbacks
        assert webhooks.due_deliveries() == []
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
        assert webhooks.due_deliveries() == [str(delivery.pk)]
        assert webhooks.RETRY_COUNTDOWN_MAX.total_seconds() < settings.CELERY_VISIBILITY_TIMEOUT

    def test_backoff_grows_and_is_capped(self):
        delays = [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 10, 30)]
        assert 24 <= delays[0] <= 36 and 48 <= delays[1] <= 72 and 96 <= delays[2] <= 144
        assert delays[-1] <= 6 * 3600 * 1.2

    def test_repeated_failure_disables_and_tells_the_managers(
        self, settings, police_system, sergeant, officer, subscribe, receiver, make_person
    ):
        settings.WEBHOOK_DISABLE_AFTER = 3
        subscription = subscribe(police_system)
        receiver.status = 500
        for n in range(3):
            make_person(given_name=f"P{n}")
        results = run_deliveries()
        assert results == ["pending", "pending", "cancelled"]
        subscription.refresh_from_db()
        assert not subscription.active and subscription.disabled_at
        assert (
            subscription.disabled_reason
            == "3 deliveries in a row failed (last: http_5xx, HTTP 500)"
        )
        notices = Notification.objects.filter(kind="webhook_disabled")
        assert [n.recipient for n in notices] == [sergeant]
        assert not WebhookDelivery.objects.filter(status="pending").exists()
        make_person(given_name="After")
        assert run_deliveries() == []

    def test_a_revoked_client_stops_its_subscriptions(
        self, police_system, subscribe, receiver, make_person
    ):
        from partners.models import ApiClient
        from partners.services import api_client_revoke

        subscription = subscribe(police_system)
        api_client_revoke(client=ApiClient.objects.get(pk=subscription.created_by_client_id))
        make_person()
        assert run_deliveries() == []
        subscription.refresh_from_db()
        assert not subscription.active
        assert receiver.received == []

    def test_a_tampered_body_fails_verification(self):
        secret = webhooks.new_secret()
        body = b'{"type":"case.created"}'
        signature = webhooks.sign(secret, "msg_1", int(time.time()), body)
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": signature,
        }
        assert verify(secret, headers, body)["type"] == "case.created"
        with pytest.raises(ValueError):
            verify(secret, headers, body.replace(b"created", b"updated"))
