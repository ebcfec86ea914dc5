"""The change feed: an ordered, gap-free view of the change journal, filtered to what the caller
may see now. Behind GET /api/v1/changes and webhook deliveries alike.

Ordering. Services append `core.Change` rows with `seq` NULL inside their own transactions. Ids come
from a sequence at INSERT time, so they do not follow commit order: a transaction holding id 10 can
commit after one holding id 11. A feed keyed on ids would hand out 11, move its cursor past 10 and
never return 10. Instead `sequence()` gives each *committed* row a `seq` at read time, under one
lock, in one statement: every row that commits later gets a higher `seq` than anything a reader has
seen, so a cursor never passes a row that is not yet there.

Visibility is decided now, per record, by the owning domain's access module (cases, casework), so a
change to a record the caller may not see never appears. `revoked` rows (written when a share ends)
go only to their audience partner; when the case's subject is no longer visible to that partner
either, a second `person revoked` item follows, so the partner can drop both copies. `deleted` rows
of disposed-of records go to the audience their tombstones remember (sync/tombstones.py).

Cursors are opaque (a signed position); a cursor from before the journal's pruning horizon, or one
that was not issued here, is 410 Gone: the caller starts a full resync.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from cases import access as case_access
from casework import access as casework_access
from core.errors import DomainError
from core.models import Change
from partners.actor import Actor
from programmes import access as programme_access
from sync import tombstones
from sync.models import FeedHorizon, Tombstone

# Any fixed 64-bit number: the advisory lock that serialises sequencing on PostgreSQL.
SEQUENCER_LOCK = 7_240_601_001
LAST_PART = 9  # a position (seq, LAST_PART) means "everything at seq has been seen"
SCAN_WINDOW = 5_000  # journal rows looked at per query
SCAN_LIMIT = 50_000  # journal rows looked at per request, however few are visible
HIGH_WATER_TTL = 3600
_SIGNER = signing.Signer(salt="sync.feed.cursor")


class CursorGone(DomainError):
    status = 410
    code = "cursor_expired"


@dataclass(frozen=True, order=True)
class Position:
    seq: int
    part: int = LAST_PART


@dataclass(frozen=True)
class FeedItem:
    position: Position
    resource: str
    object_id: object
    action: str
    changed_at: datetime
    case_id: object = None
    person_id: object = None

    @property
    def event_type(self) -> str:
        return f"{self.resource}.{self.action}"

    @property
    def cursor(self) -> str:
        return encode_cursor(self.position)


@dataclass(frozen=True)
class Page:
    items: list[FeedItem]
    next_position: Position
    scanned_through: int


# --- cursors -------------------------------------------------------------------------------


def encode_cursor(position: Position) -> str:
    signed = _SIGNER.sign(f"{position.seq}.{position.part}")
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor stands for; CursorGone for anything not issued here."""
    gone = CursorGone(
        "This cursor is not valid here. Start a full resync, then follow the feed from its "
        "latest position (GET /api/v1/changes?latest=true).",
        fields={"cursor": ["unknown cursor"]},
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        seq, part = _SIGNER.unsign(raw).split(".")
        return Position(int(seq), int(part))
    except (binascii.Error, UnicodeError, ValueError, signing.BadSignature):
        raise gone from None


# --- sequencing ----------------------------------------------------------------------------


def horizon() -> int:
    """The highest seq pruned away (0 when nothing has been)."""
    row = FeedHorizon.objects.filter(pk=1).values_list("pruned_through", flat=True).first()
    return row or 0


def sequence() -> int:
    """Give committed, unsequenced journal rows the next seqs, in id order. Returns the head seq.

    Serialised by an advisory lock on PostgreSQL and by SQLite's single writer, so two readers never
    hand out the same numbers and a later run always numbers after an earlier one.
    """
    if Change.objects.filter(seq__isnull=True).exists():
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
            base = max(Change.objects.aggregate(m=Max("seq"))["m"] or 0, horizon())
            table = connection.ops.quote_name(Change._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET seq = %s + todo.n FROM ("
                    f"SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table} "
                    "WHERE seq IS NULL) AS todo "
                    f"WHERE {table}.id = todo.id",
                    [base],
                )
    return head()


def head() -> int:
    return max(Change.objects.aggregate(m=Max("seq"))["m"] or 0, horizon())


@transaction.atomic
def prune(*, older_than: timedelta | None = None) -> int:
    """Drop journal rows older than the feed's retention (CHANGE_FEED_RETENTION_DAYS) and move
    the horizon: a cursor from before it is then 410 Gone. Only sequenced rows go; the newest row
    always stays, so the head never moves backwards."""
    sequence()
    if older_than is None:
        older_than = timedelta(days=settings.CHANGE_FEED_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    head_seq = head()
    through = (
        Change.objects.filter(seq__isnull=False, seq__lt=head_seq, changed_at__lt=cutoff)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if through is None:
        return 0
    row, _ = FeedHorizon.objects.select_for_update().get_or_create(pk=1)
    pruned = Change.objects.filter(seq__isnull=False, seq__lte=through)
    Tombstone.objects.filter(change_id__in=pruned.values("pk")).delete()
    deleted, _ = pruned.delete()
    if through > row.pruned_through:
        FeedHorizon.objects.filter(pk=1).update(pruned_through=through, pruned_at=timezone.now())
    return deleted


# --- visibility ----------------------------------------------------------------------------


def _visible_via(selector: Callable[[Actor], QuerySet], actor: Actor) -> Exists:
    return Exists(selector(actor).filter(pk=OuterRef("object_id")))


# Per resource: the selector that decides who sees a record. A resource with no entry here never
# appears (fail closed), so a new record type must say who may see it before its changes are shown.
SELECTORS: dict[str, Callable[[Actor], QuerySet]] = {
    "case": case_access.cases_visible_to,
    "person": case_access.persons_visible_to,
    "entry": casework_access.entries_visible_to,
    "adversity": casework_access.adversities_visible_to,
    "action": casework_access.actions_visible_to,
    "referral": casework_access.referrals_visible_to,
    "enrolment": programme_access.enrolments_visible_to,
    "enrolment_session": programme_access.sessions_visible_to,
    "milestone": programme_access.milestones_visible_to,
}


def _by_resource(actor: Actor) -> dict[str, Q]:
    rules = {resource: Q(_visible_via(selector, actor)) for resource, selector in SELECTORS.items()}
    # Programmes are configuration, not personal data: everyone may see them change.
    rules["programme"] = Q(pk__isnull=False)
    return rules


def visibility_condition(actor: Actor) -> Q:
    """The one rule for the feed, as a filter on core.Change. Polls apply it through
    `visible_rows`, a resource at a time."""
    revoked = Q(action=Change.Action.REVOKED, audience_partner_id=actor.partner.pk)
    if not case_access.reads_case_content(actor):
        return revoked
    condition = Q()
    for resource, rule in _by_resource(actor).items():
        condition |= Q(resource=resource) & rule
    live = (
        Q(audience_partner__isnull=True)
        & ~Q(action__in=[Change.Action.REVOKED, Change.Action.DELETED])
        & condition
    )
    # A deleted record cannot be checked any more: it was visible if its case still is.
    deleted = (
        Q(audience_partner__isnull=True, action=Change.Action.DELETED)
        & ~Q(resource__in=["case", "person"])
        & Q(case_id__in=case_access.cases_visible_to(actor).values("pk"))
    )
    # A disposed-of record (retention): its tombstones say who could see it then.
    disposed = tombstones.visibility_condition(actor)
    return revoked | live | deleted | disposed


def visible_rows(actor: Actor, rows: list[Change]) -> list[Change]:
    """The journal rows among `rows` that `visibility_condition(actor)` admits, worked out a
    resource at a time: one short query per resource present, each over the ids in hand. A
    statement joining every resource's rule costs more to plan than to run, and its planner may
    choose to hash everything the caller can see (100,000 cases for a large partner) to test 50
    rows. tests/sync/test_feed_visibility.py checks the two agree."""
    keep = {
        r.pk
        for r in rows
        if r.action == Change.Action.REVOKED and r.audience_partner_id == actor.partner.pk
    }
    if not case_access.reads_case_content(actor):
        return [r for r in rows if r.pk in keep]
    announced = [r for r in rows if r.audience_partner_id is None]
    live = [r for r in announced if r.action not in (Change.Action.REVOKED, Change.Action.DELETED)]
    wanted: dict[str, set] = defaultdict(set)
    for r in live:
        wanted[r.resource].add(r.object_id)
    seen: dict[str, set] = {}
    for resource, ids in wanted.items():
        if resource == "programme":
            seen[resource] = ids
        elif resource in SELECTORS:
            seen[resource] = set(
                SELECTORS[resource](actor).filter(pk__in=ids).values_list("pk", flat=True)
            )
    keep |= {r.pk for r in live if r.object_id in seen.get(r.resource, ())}
    deleted = [r for r in announced if r.action == Change.Action.DELETED]
    of_a_case = [r for r in deleted if r.resource not in ("case", "person") and r.case_id]
    if of_a_case:
        cases = case_access.cases_visible_to(actor).filter(pk__in={r.case_id for r in of_a_case})
        still_seen = set(cases.values_list("pk", flat=True))
        keep |= {r.pk for r in of_a_case if r.case_id in still_seen}
    if deleted:
        keep |= set(
            Change.objects.filter(pk__in=[r.pk for r in deleted])
            .filter(tombstones.visibility_condition(actor))
            .values_list("pk", flat=True)
        )
    return [r for r in rows if r.pk in keep]


# --- reading -------------------------------------------------------------------------------


def _expand(actor: Actor, rows: list[Change]) -> list[FeedItem]:
    """Journal rows → feed items: a revoked case whose subject went out of sight with it also
    yields `person revoked`."""
    items = []
    revoked_people = {
        r.person_id for r in rows if r.action == Change.Action.REVOKED and r.person_id
    }
    still_visible = set()
    if revoked_people:
        still_visible = set(
            case_access.persons_visible_to(actor)
            .filter(pk__in=revoked_people)
            .values_list("pk", flat=True)
        )
    for row in rows:
        items.append(
            FeedItem(
                Position(row.seq, 0),
                row.resource,
                row.object_id,
                row.action,
                row.changed_at,
                row.case_id,
                row.person_id,
            )
        )
        if (
            row.action == Change.Action.REVOKED
            and row.resource == "case"
            and row.person_id
            and row.person_id not in still_visible
        ):
            items.append(
                FeedItem(
                    Position(row.seq, 1),
                    "person",
                    row.person_id,
                    Change.Action.REVOKED,
                    row.changed_at,
                    row.case_id,
                    row.person_id,
                )
            )
    return items


def check_position(position: Position, *, head_seq: int) -> None:
    if position.seq < horizon():
        raise CursorGone(
            "This cursor has expired: the changes after it are older than the journal keeps. "
            "Start a full resync, then follow the feed from GET /api/v1/changes?latest=true.",
            fields={"cursor": ["expired"]},
        )
    if position.seq > head_seq:
        raise CursorGone(
            "This cursor is not known here. Start a full resync.", fields={"cursor": ["unknown"]}
        )


def narrowing(actor: Actor, after_seq: int) -> Q | None:
    """For a caller that sees few cases: the journal rows that could be visible to it at all, as
    a filter the database answers from indexes (the rows of its cases, of its people, addressed to
    its partner, programmes, and the deletions announced to it). A poll then reads its own rows
    only, however much the rest of the partnership changes. None for a caller that sees many (or
    coordinates a programme, whose enrolments span cases it cannot open): the windowed scan
    serves it, as most rows are likely to be its own anyway.

    Only ever narrows `visibility_condition`, which still decides every row."""
    if not case_access.reads_case_content(actor):
        return None
    if programme_access.coordinates_any_programme(actor):
        return None
    few = case_access.few_visible_case_ids(actor)
    if few is None:
        return None
    bound = 2 * case_access.FEW_CASES
    people = list(case_access.persons_visible_to(actor).values_list("pk", flat=True)[: bound + 1])
    deleted = list(
        tombstones.told_to(actor)
        .filter(change__seq__gt=after_seq)
        .values_list("change_id", flat=True)[: bound + 1]
    )
    if len(people) > bound or len(deleted) > bound:
        return None
    return (
        Q(case_id__in=few)
        | Q(person_id__in=people)
        | Q(audience_partner=actor.partner)
        | Q(resource="programme")
        | Q(pk__in=deleted)
    )


def read(
    actor: Actor, after: Position | None, *, limit: int, scan_limit: int | None = None
) -> Page:
    """Up to `limit` items visible to the actor after `after` (None: the oldest kept).

    Work per call is bounded: at most `scan_limit` journal rows are looked at. When none of them is
    visible the page is empty and the caller keeps its cursor; where the scan got to is remembered
    (briefly, per caller and position) so the next poll does not look at the same rows again.
    """
    with case_access.one_reading():
        return _read(actor, after, limit=limit, scan_limit=scan_limit or SCAN_LIMIT)


def _read(actor: Actor, after: Position | None, *, limit: int, scan_limit: int) -> Page:
    head_seq = sequence()
    if after is None:
        after = Position(horizon())
    check_position(after, head_seq=head_seq)
    memo_key = (
        f"sync:feed:hw:{actor.kind}:{(actor.client or actor.user).pk}:{after.seq}.{after.part}"
    )
    low = max(after.seq if after.part == LAST_PART else after.seq - 1, cache.get(memo_key) or 0)
    narrow = narrowing(actor, low)
    if narrow is not None:
        # Only the caller's own rows are read: the whole rest of the journal is one window.
        window = scan_limit = max(head_seq - low, 1)
    else:
        window = SCAN_WINDOW
    # Rows are read in batches that grow while few of them turn out visible.
    batch = 4 * (limit + 1)
    items: list[FeedItem] = []
    scanned = 0
    while low < head_seq and len(items) < limit and scanned < scan_limit:
        high = min(low + window, head_seq)
        journal = Change.objects.filter(seq__gt=low, seq__lte=high)
        if narrow is not None:
            journal = journal.filter(narrow)
        rows = list(journal.order_by("seq")[:batch])
        if len(rows) == batch:
            high = rows[-1].seq  # the rest of the window is read next time round
        batch = min(batch * 4, SCAN_WINDOW)
        fresh = [i for i in _expand(actor, visible_rows(actor, rows)) if i.position > after]
        items.extend(fresh)
        if len(items) >= limit:
            # Cut after a whole journal row, so a position is always "all of seq N".
            last_seq = items[limit - 1].position.seq
            items = [i for i in items if i.position.seq <= last_seq]
            return Page(items, Position(last_seq), last_seq)
        scanned += high - low
        low = high
    if items:
        return Page(items, Position(low), low)
    if low > after.seq:
        cache.set(memo_key, low, HIGH_WATER_TTL)
    return Page([], after, low)


def latest() -> Position:
    return Position(sequence())
