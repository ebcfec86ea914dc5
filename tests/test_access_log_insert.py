"""The access log's multi-row INSERT writes exactly what the model describes, in batches."""

import uuid

import pytest

from audit.models import AccessLog
from audit.services import Access, access_record
from partners.actor import actor_for_user


@pytest.mark.django_db
def test_it_writes_every_column_and_splits_large_batches(officer):
    actor = actor_for_user(officer, channel="ui")
    case_id, person_id = uuid.uuid4(), uuid.uuid4()
    accesses = [
        Access("case", n, case_id=case_id, person_id=person_id, justification="lead partner")
        for n in range(1200)
    ]
    access_record(actor=actor, action="list", accesses=accesses, detail={"count": 7})
    assert AccessLog.objects.count() == 1200
    row = AccessLog.objects.get(object_id="7")
    assert (row.user, row.client, row.partner, row.role, row.channel, row.action, row.allowed) == (
        officer,
        None,
        officer.membership.partner,
        "practitioner",
        "ui",
        "list",
        True,
    )
    assert (row.case_id, row.person_id, row.justification, row.detail) == (
        case_id,
        person_id,
        "lead partner",
        {"count": 7},
    )
    assert AccessLog.objects.filter(detail__count=7).count() == 1200
