"""The change feed decides visibility a resource at a time (sync.feed.visible_rows); the rule as
one statement (sync.feed.visibility_condition) is its specification. Over the rights table's world,
with revocations and deletions of every kind added, both give every actor the same rows."""

from __future__ import annotations

import uuid

import pytest

from core.models import Change
from partners.actor import actor_for_user
from sync import feed, tombstones

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(world):
    situation = next(iter(world.situations.values()))
    for partner in (world.police, world.school, world.third):
        Change.objects.create(
            resource="case",
            object_id=situation.case_id,
            action=Change.Action.REVOKED,
            case_id=situation.case_id,
            person_id=situation.subject_id,
            audience_partner=partner,
        )
    for case_id in [s.case_id for s in world.situations.values()] + [uuid.uuid4()]:
        # An entry deleted from each case (and from one that is gone).
        Change.objects.create(
            resource="entry", object_id=uuid.uuid4(), action=Change.Action.DELETED, case_id=case_id
        )
    police_user = world.personas["practitioner"].user
    tombstones.announce_deleted("case", uuid.uuid4(), [(world.police.pk, None)])
    tombstones.announce_deleted("case", uuid.uuid4(), [(world.police.pk, police_user.pk)])
    tombstones.announce_deleted("person", uuid.uuid4(), [(world.school.pk, None)])
    Change.objects.create(resource="unknown", object_id=uuid.uuid4(), action="created")
    feed.sequence()
    return list(Change.objects.order_by("seq"))


def test_every_actor_sees_the_same_rows_either_way(world, journal):
    users = {p.user for p in world.personas.values() if p.user is not None}
    users |= {p.user for p in world.programme_personas.values() if p.user is not None}
    assert len(journal) > 30
    answers = set()
    for user in users:
        actor = actor_for_user(user, channel="api")
        specified = list(
            Change.objects.filter(feed.visibility_condition(actor))
            .order_by("seq")
            .values_list("pk", flat=True)
        )
        assert [r.pk for r in feed.visible_rows(actor, journal)] == specified, user.email
        answers.add(tuple(specified))
    assert len(answers) >= 4  # the actors differ: the test compares something
