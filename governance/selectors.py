"""Reads of subject access requests, always for an acting user (governance.access decides)."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Person
from governance.access import requests_visible_to
from governance.models import SubjectAccessRequest
from partners.actor import Actor


def subject_access_for_person(actor: Actor, person: Person) -> QuerySet[SubjectAccessRequest]:
    """The actor's partner's requests about this person, newest first."""
    return requests_visible_to(actor).filter(person=person).order_by("-requested_at")
