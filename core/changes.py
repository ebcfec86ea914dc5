"""Append to the change journal. Call inside the service's transaction, after the write."""

from __future__ import annotations

from core.models import Change


def record_change(
    resource: str, object_id, action: str, *, case_id=None, person_id=None, audience_partner=None
) -> None:
    Change.objects.create(
        resource=resource,
        object_id=object_id,
        action=action,
        case_id=case_id,
        person_id=person_id,
        audience_partner=audience_partner,
    )


def record_changes(rows: list[dict]) -> None:
    """Many changes in one INSERT (batch sync)."""
    Change.objects.bulk_create([Change(**row) for row in rows])
