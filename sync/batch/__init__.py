"""Batch sync (POST /api/v1/sync/{resource}): one module per resource, the shared record and
result machinery in common.py.

A batch is up to 500 records keyed by the caller's own ids. Each record ends created, updated,
unchanged or error; one bad record never fails the others. The shape of the work is what makes it
fast enough for a nightly full push: everything the batch needs is read in a few bulk queries,
each record is compared before anything is written (an unchanged record costs no write at all),
and only records that really changed go one by one through the same services the rest of the API
uses (optimistic versions, history, access log). People and cases are created in bulk (see their
modules); referrals and chronology entries go one by one through casework's services, each in its
own savepoint.
"""

from __future__ import annotations

from core.errors import ValidationFailed
from partners.actor import Actor
from sync.batch.cases import sync_cases
from sync.batch.common import RecordResult
from sync.batch.entries import sync_entries
from sync.batch.people import sync_people
from sync.batch.referrals import sync_referrals

MAX_BATCH = 500

SYNCERS = {
    "people": sync_people,
    "cases": sync_cases,
    "referrals": sync_referrals,
    "entries": sync_entries,
}


def sync_batch(*, actor: Actor, resource: str, records: list) -> list[RecordResult]:
    """The one entry point for POST /sync/{resource}."""
    if len(records) > MAX_BATCH:
        raise ValidationFailed(f"A batch holds at most {MAX_BATCH} records.")
    return SYNCERS[resource](actor=actor, records=records)
