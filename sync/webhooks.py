"""Webhooks: partner subscriptions to change events, signed per Standard Webhooks.

Events come from the change journal through the same feed (and so the same visibility rule) as
GET /api/v1/changes, read as the subscription's owner would read it now. Payloads carry the event
type and ids only, never personal data: the receiver fetches what it may see through the API.

    webhook-id:        the delivery's id, the same on every retry (de-duplicate on it)
    webhook-timestamp: seconds since the epoch, of this attempt
    webhook-signature: "v1," + base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}"))

The secret is "whsec_" + base64 of 32 random bytes; the HMAC key is the decoded bytes.

Destinations must be public (no server-side request forgery into our own networks): checked when
subscribing, and again at every delivery after resolving the host name, with the connection then
made to the vetted address itself so that a second lookup cannot answer differently (DNS
rebinding). Networks in WEBHOOK_ALLOWED_NETWORKS (on-premises partners) are allowed too.
Redirects are never followed, and a failure is stored as a category, never the exception text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import Change
from partners.actor import Actor, actor_for_client, actor_for_user
from sync import access, feed
from sync.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

RESOURCES = ("person", "case", "entry", "adversity", "action", "referral")
ACTIONS = tuple(Change.Action.values)
EVENT_TYPES = tuple(f"{r}.{a}" for r in RESOURCES for a in ACTIONS)
ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
MAX_SUBSCRIPTIONS = 10
DELIVER_TASK = "sync.deliver_webhook"
FAN_OUT_BATCH = 1000
MAX_BACKOFF = timedelta(hours=6)
# A retry due sooner than this is sent to the broker with a countdown. A later one is left to the
# retry sweep (every minute), which picks up deliveries whose `next_attempt_at` has passed: so no
# task waits in Redis longer than this, and CELERY_VISIBILITY_TIMEOUT can stay short.
RETRY_COUNTDOWN_MAX = timedelta(minutes=5)


# --- who may -------------------------------------------------------------------------------


can_manage = access.can_manage_webhooks


def subscriptions_visible_to(actor: Actor) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(partner=actor.partner, deleted_at__isnull=True)


def subscription_get_for(actor: Actor, subscription_id) -> WebhookSubscription:
    subscription = subscriptions_visible_to(actor).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("Webhook subscription not found.")
    return subscription


# --- subscriptions -------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _allowed_schemes() -> tuple[str, ...]:
    return ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in _allowed_schemes() or not parts.hostname:
        raise ValidationFailed(
            "The webhook URL must be an https:// address.", fields={"url": ["must be https"]}
        )
    if parts.username or parts.password:
        raise ValidationFailed(
            "Put no credentials in the URL: verify our signature instead.",
            fields={"url": ["credentials in URL"]},
        )


def _check_destination(url: str) -> None:
    """Refuse a URL whose host is, or resolves to, anything but public addresses. One message
    for every reason (private, loopback, does not resolve, ...): the answer must not tell a
    caller which internal names exist."""
    try:
        destination_for(url)
    except DeliveryFailed as failure:
        logger.info("webhooks: subscription to %s refused: %s", url, failure.detail)
        raise ValidationFailed(
            "The webhook URL must name a host that resolves only to public internet addresses "
            "(not loopback, private, link-local or other special-purpose ranges). A receiver "
            "inside a partner's own network needs that network allowed by the administrators.",
            fields={"url": ["not a public address"]},
        ) from None


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES) - {ALL_EVENTS})
    if not event_types or unknown:
        raise ValidationFailed(
            "Subscribe to one or more event types (or '*'): " + ", ".join(EVENT_TYPES) + ".",
            fields={"event_types": [f"unknown: {', '.join(unknown)}" if unknown else "required"]},
        )
    return sorted(set(event_types))


def subscription_create(
    *, actor: Actor, url: str, event_types: list[str], description: str = ""
) -> WebhookSubscription:
    """A subscription starts at the journal's head: it is told about changes from now on. Its URL
    must be https (http only where WEBHOOK_ALLOW_HTTP) and resolve only to public addresses or
    WEBHOOK_ALLOWED_NETWORKS."""
    if not can_manage(actor):
        raise Forbidden(
            "Only partner systems with the 'sync' scope and managers can manage webhooks."
        )
    _check_url(url)
    event_types = _check_event_types(event_types)
    _check_destination(url)  # a DNS lookup: before the transaction, not while holding it
    with transaction.atomic():
        if subscriptions_visible_to(actor).count() >= MAX_SUBSCRIPTIONS:
            raise ValidationFailed(f"A partner can hold at most {MAX_SUBSCRIPTIONS} subscriptions.")
        return WebhookSubscription.objects.create(
            partner=actor.partner,
            created_by_client=actor.client,
            created_by_user=actor.user,
            url=url,
            description=description,
            event_types=event_types,
            secret=new_secret(),
            cursor_seq=feed.sequence(),
        )


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    if not can_manage(actor):
        raise Forbidden(
            "Only partner systems with the 'sync' scope and managers can manage webhooks."
        )
    now = timezone.now()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=False, deleted_at=now, secret=""
    )
    _cancel_pending(subscription)


def _cancel_pending(subscription: WebhookSubscription) -> None:
    WebhookDelivery.objects.filter(
        subscription=subscription,
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
    ).update(status=WebhookDelivery.Status.CANCELLED)


def owner_actor(subscription: WebhookSubscription) -> Actor | None:
    """Events are read as the subscription's owner sees records now; None once it cannot act."""
    if subscription.created_by_client_id:
        actor = actor_for_client(subscription.created_by_client)
    elif subscription.created_by_user_id:
        actor = actor_for_user(subscription.created_by_user, channel="api")
    else:
        return None
    if actor is None or actor.partner.pk != subscription.partner_id:
        return None
    return actor.via("system")


def _wants(subscription: WebhookSubscription, event_type: str) -> bool:
    return ALL_EVENTS in subscription.event_types or event_type in subscription.event_types


def payload_for(item: feed.FeedItem) -> dict:
    data = {"resource": item.resource, "id": str(item.object_id), "action": item.action}
    if item.case_id and item.resource not in ("case", "person"):
        data["case"] = str(item.case_id)
    data["cursor"] = item.cursor
    return {"type": item.event_type, "timestamp": item.changed_at.isoformat(), "data": data}


# --- fan-out: journal → deliveries -------------------------------------------------------


def fan_out() -> int:
    """Turn new journal rows into deliveries for every live subscription. Safe to run twice at
    once: a subscription's position moves with a conditional UPDATE, and a delivery is unique
    per (subscription, change)."""
    feed.sequence()
    created = 0
    for subscription in WebhookSubscription.objects.filter(active=True, deleted_at__isnull=True):
        created += _fan_out_one(subscription)
    return created


def _fan_out_one(subscription: WebhookSubscription) -> int:
    actor = owner_actor(subscription)
    if actor is None:
        _disable(subscription, "Its owner (API client or user) can no longer use the API.")
        return 0
    position = feed.Position(max(subscription.cursor_seq, feed.horizon()))
    page = feed.read(actor, position, limit=FAN_OUT_BATCH)
    if page.next_position.seq == subscription.cursor_seq:
        return 0
    deliveries = [
        WebhookDelivery(
            subscription=subscription,
            change_seq=item.position.seq,
            part=item.position.part,
            event_type=item.event_type,
            payload=payload_for(item),
        )
        for item in page.items
        if _wants(subscription, item.event_type)
    ]
    from followups.outbox import enqueue

    with transaction.atomic():
        moved = WebhookSubscription.objects.filter(
            pk=subscription.pk, cursor_seq=subscription.cursor_seq
        ).update(cursor_seq=page.scanned_through)
        if not moved:
            return 0  # another worker got here first
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        for delivery in deliveries:
            enqueue(DELIVER_TASK, delivery_id=str(delivery.pk))
    return len(deliveries)


# --- delivery ------------------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 hours, with ±20% jitter so retries do not stampede."""
    base = min(MAX_BACKOFF.total_seconds(), 30 * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


# --- destinations: public addresses only, resolved once and pinned ------------------------

Category = WebhookDelivery.ErrorCategory
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Special-purpose ranges that `is_global` does not (on every Python) already exclude.
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the low 32 bits
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_LOCALHOST = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


class DeliveryFailed(Exception):
    """An attempt that ended without a usable answer. `category` is what is stored and shown;
    `detail` (which may name addresses and ports) goes to the operators' log only."""

    def __init__(self, category: str, detail: str = ""):
        super().__init__(category)
        self.category = category
        self.detail = detail or category


def _is_public(address: IPAddress) -> bool:
    """Globally routable unicast, checked belt and braces: `is_global` has changed between
    Python versions, and some IPv6 addresses embed an IPv4 address that must be public too."""
    if address.version == 6:
        if address in _NAT64:
            return _is_public(_nat64_ipv4(address))
        if address.is_site_local or address.teredo:
            return False
        if address.sixtofour is not None and not _is_public(address.sixtofour):
            return False
    elif address in _SHARED_ADDRESS_SPACE:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _nat64_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


def address_allowed(address: IPAddress) -> bool:
    """A public address, or one in WEBHOOK_ALLOWED_NETWORKS (on-premises partners). Never the
    unspecified address, multicast or broadcast, whatever the allow-list says."""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:10.0.0.5 is 10.0.0.5
    if address.is_unspecified or address.is_multicast or address == _BROADCAST:
        return False
    if any(address in network for network in _allowed_networks()):
        return True
    return _is_public(address)


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` stands for: itself if it is an IP address, else what DNS says."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return list(_LOCALHOST)  # RFC 6761: loopback, never asked of DNS
    try:
        answers = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DeliveryFailed(Category.DNS, f"{host}: {exc}") from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DeliveryFailed(Category.DNS, f"{host}: no addresses")
    return addresses


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # ASCII (IDNA) form: the Host header, TLS SNI and certificate name
    port: int
    target: str  # path and query
    addresses: tuple[IPAddress, ...]  # vetted: connect to these, never the name


def destination_for(url: str) -> Destination:
    """Where `url` may be delivered: resolved once, every address vetted. Raises
    DeliveryFailed(refused_destination) if any address is not allowed, (dns) if none."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise DeliveryFailed(Category.REFUSED_DESTINATION, f"unusable URL {url!r}") from None
    if parts.scheme not in _allowed_schemes() or not host or parts.username or parts.password:
        raise DeliveryFailed(Category.REFUSED_DESTINATION, f"scheme or host not allowed: {url!r}")
    addresses = _resolve(host, port)
    refused = [str(address) for address in addresses if not address_allowed(address)]
    if refused:
        raise DeliveryFailed(
            Category.REFUSED_DESTINATION, f"{host} resolves to non-public {', '.join(refused)}"
        )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # Percent-encode anything outside ASCII; what is already valid in a URL is kept as it is.
    target = quote(target, safe="!#$%&'()*+,/:;=?@[]~")
    return Destination(parts.scheme, host, port, target, tuple(addresses))


def _connect_pinned(addresses, address, timeout, source_address=None) -> socket.socket:
    """http.client's connection factory, given the vetted addresses: `address` (the host name
    and port) is used for the port only, so the name is never resolved again. Tries each
    address in turn, within one timeout overall."""
    _, port = address
    deadline = time.monotonic() + timeout
    last_error: OSError = TimeoutError("no time left to connect")
    for candidate in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((str(candidate), port), remaining, source_address)
        except OSError as exc:
            last_error = exc
    raise last_error


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # verifies the certificate against the host name


def _connection(destination: Destination, timeout: float) -> http.client.HTTPConnection:
    if destination.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            destination.host, destination.port, timeout=timeout, context=_tls_context()
        )
    else:
        connection = http.client.HTTPConnection(destination.host, destination.port, timeout=timeout)
    connection._create_connection = partial(_connect_pinned, destination.addresses)  # type: ignore[attr-defined]
    return connection


def _category_for(status_code: int) -> str:
    if 200 <= status_code < 300:
        return ""
    if 300 <= status_code < 400:
        return Category.REDIRECT  # never followed: we sign for one URL only
    if 400 <= status_code < 500:
        return Category.HTTP_4XX
    if 500 <= status_code < 600:
        return Category.HTTP_5XX
    return Category.BAD_RESPONSE


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """One POST to a vetted, pinned address. Returns (status code or None, error category or
    "")."""
    try:
        return _send(destination_for(url), body, headers)
    except DeliveryFailed as failure:
        logger.info("webhooks: delivery to %s failed: %s", url, failure.detail)
        return None, failure.category


def _send(destination: Destination, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    connection = _connection(destination, settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        try:
            connection.connect()
        except TimeoutError as exc:
            raise DeliveryFailed(Category.TIMEOUT, f"connect: {exc!r}") from None
        except ssl.SSLError as exc:
            raise DeliveryFailed(Category.TLS, repr(exc)) from None
        except OSError as exc:
            raise DeliveryFailed(Category.CONNECT, repr(exc)) from None
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            response = connection.getresponse()
            response.read(1024)
        except TimeoutError as exc:
            raise DeliveryFailed(Category.TIMEOUT, f"answer: {exc!r}") from None
        except ssl.SSLError as exc:
            raise DeliveryFailed(Category.TLS, repr(exc)) from None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise DeliveryFailed(Category.BAD_RESPONSE, repr(exc)) from None
    finally:
        connection.close()
    return response.status, _category_for(response.status)


def _claim(delivery_id) -> WebhookDelivery | None:
    """Take a due delivery (or one whose sender died mid-send) with a conditional UPDATE."""
    now = timezone.now()
    lease = now - timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3)
    due = Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=lease
    )
    claimed = (
        WebhookDelivery.objects.filter(due, pk=delivery_id)
        .filter(subscription__active=True)
        .update(status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


# Schedules another attempt at a delivery in so many seconds. The Celery task passes its own
# (sync/tasks.py), so this module never imports the tasks that call it.
Retry = Callable[[str, float], None]


def deliver(delivery_id, *, retry: Retry | None = None) -> str:
    """One attempt. Returns the delivery's status afterwards ("skipped" if not ours to send).
    A failed attempt that may be retried soon is handed to `retry`; without one (or when the
    back-off is long) the sweep sends it again once due."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "VRU-Case-Coordination-Webhooks/1",
        "webhook-id": str(delivery.pk),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(subscription.secret, str(delivery.pk), timestamp, body),
    }
    status_code, category = _post(subscription.url, body, headers)
    now = timezone.now()
    if not category:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=now,
            last_status_code=status_code,
            last_error_category="",
        )
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        return WebhookDelivery.Status.DELIVERED
    return _failed(delivery, status_code, category, retry)


def _failed(
    delivery: WebhookDelivery, status_code: int | None, category: str, retry: Retry | None
) -> str:
    subscription = delivery.subscription
    gave_up = delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    delay = backoff(delivery.attempts)
    status = WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        last_status_code=status_code,
        last_error_category=category,
        next_attempt_at=timezone.now() + delay,
    )
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = (
        WebhookSubscription.objects.filter(pk=subscription.pk)
        .values_list("consecutive_failures", flat=True)
        .first()
    )
    if failures is not None and failures >= settings.WEBHOOK_DISABLE_AFTER:
        last = f"{category}, HTTP {status_code}" if status_code else category
        _disable(subscription, f"{failures} deliveries in a row failed (last: {last})")
        return WebhookDelivery.Status.CANCELLED
    if retry is not None and not gave_up and delay <= RETRY_COUNTDOWN_MAX:
        transaction.on_commit(lambda: retry(str(delivery.pk), delay.total_seconds()))
    return status


@transaction.atomic
def _disable(subscription: WebhookSubscription, reason: str) -> bool:
    """Turn a subscription off (once) and tell the partner's managers."""
    now = timezone.now()
    turned_off = WebhookSubscription.objects.filter(pk=subscription.pk, active=True).update(
        active=False, disabled_at=now, disabled_reason=reason
    )
    if not turned_off:
        return False
    _cancel_pending(subscription)
    from followups.services import notify

    managers = access.webhook_managers(subscription.partner_id)
    notify(
        recipients=managers,
        kind="webhook_disabled",
        title="A webhook subscription was turned off after repeated delivery failures",
        # No page shows webhooks (they are managed through the API): the email links to follow-ups.
        link="",
        dedupe_key=f"webhook-disabled:{subscription.pk}:{now.isoformat()}",
    )
    logger.warning("webhooks: subscription %s disabled: %s", subscription.pk, reason)
    return True


def due_deliveries(*, grace: timedelta = timedelta(seconds=60), limit: int = 500) -> list[str]:
    """Deliveries whose retry message went missing (or whose sender died): for the sweep."""
    now = timezone.now()
    lease = now - timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3)
    rows = WebhookDelivery.objects.filter(subscription__active=True).filter(
        Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - grace)
        | Q(status=WebhookDelivery.Status.SENDING, claimed_at__lt=lease)
    )
    return [str(pk) for pk in rows.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]]
