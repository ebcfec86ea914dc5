"""Reads the pages need, always through the domain's access functions (given the actor)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases import access, search
from cases.models import Case
from partners.actor import Actor
from partners.models import ROLE_LABELS


def visible_cases(actor: Actor) -> QuerySet[Case]:
    return access.cases_visible_to(actor).select_related(
        "subject", "lead_partner", "lead_practitioner"
    )


def case_search(actor: Actor, q: str) -> QuerySet[Case]:
    """By reference, any part of the subject's names, or an identifier value (exact)."""
    return (
        visible_cases(actor)
        .filter(search.cases_matching(q, identifiers=True))
        .order_by("-updated_at")
    )


def case_id_for_reference(actor: Actor, value: str):
    """An auditor types a case reference or id; the access log lookup then decides what they see."""
    import uuid

    value = value.strip()
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    if not access.reviews_access(actor):
        return None
    # Auditors may reach any case's access log (cases.access.can_read_access_log); a reference is
    # only how they name it. Content is never loaded here.
    return Case.objects.filter(reference__iexact=value).values_list("pk", flat=True).first()


def case_log_filter(case: Case) -> Q:
    """A case's access-log rows: those about it, and refused attempts at it (which carry only the
    id that was asked for, since a refusal must not depend on the case existing)."""
    return Q(case_id=case.pk) | Q(object_type="case", object_id=str(case.pk))


def case_id_for_break_glass(reference: str):
    """The id of the case with this reference, to ask the break-glass service about it. Called
    only once a practitioner has confirmed the request and given a reason, so nothing about the
    case is revealed to someone who stops before then; whether they may open it is the service's
    decision (casework.access.case_for_break_glass), which refuses restricted cases as missing."""
    value = reference.strip()
    if not value:
        return None
    return Case.objects.filter(reference__iexact=value).values_list("pk", flat=True).first()


def active_break_glass(actor: Actor, case: Case):
    """The actor's own live emergency access to a case they see only through it."""
    from django.utils import timezone

    from cases.models import BreakGlassAccess

    if actor.user is None or getattr(case, "share_basis", None):
        return None
    if case.lead_partner_id == actor.partner.pk:
        return None
    return (
        BreakGlassAccess.objects.filter(case=case, user=actor.user, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def case_people(actor: Actor, case: Case) -> list:
    """The person the case is about, then their household, as far as the actor may see them."""
    ids = [case.subject_id, *case.household.values_list("pk", flat=True)]
    people = {p.pk: p for p in access.persons_visible_to(actor).filter(pk__in=ids)}
    return [people[i] for i in dict.fromkeys(ids) if i in people]


def family_in_prison(actor: Actor, case: Case) -> list[tuple]:
    """(person, case member, relationship kind to the subject or "") for each visible person on
    the case recorded as in prison: what an Invisible Walls referral asks for."""
    from cases.models import CaseMember, Relationship, Whereabouts

    members = list(
        CaseMember.objects.filter(
            case=case,
            whereabouts=Whereabouts.PRISON,
            person__in=access.persons_visible_to(actor),
        ).select_related("person")
    )
    kinds = dict(
        Relationship.objects.filter(
            person_id__in=[m.person_id for m in members], related_to_id=case.subject_id
        ).values_list("person_id", "kind")
    )
    return [(m.person, m, kinds.get(m.person_id, "")) for m in members]


def siblings_of(actor: Actor, person) -> list[tuple]:
    """(person, how they are family) for the brothers and sisters of `person` the actor can see:
    recorded sibling relationships, and the children in the household of a case about them."""
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from cases.models import Relationship, RelationshipKind

    visible = access.persons_visible_to(actor)
    related = Relationship.objects.filter(kind=RelationshipKind.SIBLING).filter(
        Q(person=person) | Q(related_to=person)
    )
    recorded = {
        (b if a == person.pk else a) for a, b in related.values_list("person_id", "related_to_id")
    }
    cutoff = timezone.localdate() - relativedelta(years=18)
    household = set(
        access.cases_visible_to(actor)
        .filter(subject=person)
        .filter(household__date_of_birth__gt=cutoff)
        .values_list("household", flat=True)
    )
    ids = (recorded | household) - {person.pk}
    found = visible.filter(pk__in=ids).order_by("given_name", "family_name")
    return [
        (p, "Brother or sister" if p.pk in recorded else "A child in the household") for p in found
    ]


def relationships_between(people) -> list:
    """Recorded relationships among these (already visible) people."""
    from cases.models import Relationship

    ids = [p.pk for p in people]
    return list(
        Relationship.objects.filter(person_id__in=ids, related_to_id__in=ids)
        .select_related("person", "related_to")
        .order_by("created_at")
    )


# The access log, readable: what each action code means, and the case each row is about.

ACCESS_ACTIONS = {
    "view": "Viewed",
    "list": "Listed",
    "search": "Searched",
    "count": "Counted",
    "export": "Exported",
    "create": "Created",
    "update": "Changed",
    "upsert": "Created or updated by identifier",
    "amend": "Corrected",
    "transition": "Changed the status",
    "share": "Shared",
    "unshare": "Ended a share",
    "revoke_share": "Ended a share",
    "relate": "Recorded a relationship",
    "record_consent": "Recorded a consent decision",
    "match": "Looked for possible duplicates",
    "refer": "Sent a referral",
    "screen": "Proposed a screening decision",
    "confirm_screening": "Confirmed a screening decision",
    "challenge_screening": "Challenged a screening decision",
    "add_entry": "Added a chronology entry",
    "add_adversity": "Recorded an adversity or strength",
    "add_action": "Added an action",
    "view_history": "Viewed the history",
    "view_amendments": "Viewed the corrections",
    "view_shares": "Viewed the shares",
    "view_relationships": "Viewed the relationships",
    "view_consents": "Viewed the consent decisions",
    "break_glass": "Opened with emergency access",
    "break_glass_request": "Asked for emergency access (needs a manager's approval)",
    "break_glass_approve": "Approved emergency access",
    "break_glass_refuse": "Refused emergency access",
    "decide_break_glass": "Decided on emergency access",
    "list_break_glass": "Listed emergency access",
    "list_break_glass_requests": "Listed emergency access requests",
    "read_access_log": "Read the access log",
    "search_access_log": "Searched the access log",
    "read_changes": "Read the change feed",
    "replay": "Received a stored response again",
    "sync": "Batch sync",
    "refer_programme": "Referred to a programme",
    "list_intake": "Listed programme intake",
    "offer_next": "Offered the next place",
    "record_session": "Recorded a session",
    "book_session": "Booked the next session",
    "list_check_ins": "Listed supervision check-ins",
    "record_check_in": "Recorded a supervision check-in",
    "sign_off_check_in": "Signed off a supervision check-in",
    "record_training": "Recorded training",
    "list_training": "Listed training records",
    "view_check_in": "Viewed a supervision check-in",
    "add_session": "Recorded a session",
    "record_milestone": "Recorded a milestone",
    "view_report": "Viewed partnership figures",
    "add_milestone": "Recorded a milestone",
    "review_break_glass": "Reviewed a use of emergency access",
    "place_legal_hold": "Placed a legal hold",
    "lift_legal_hold": "Lifted a legal hold",
    "view_legal_hold": "Viewed the legal hold",
    "list_retention_due": "Listed cases due for a retention review",
    "retention_decision": "Decided on retention",
    "extend_retention": "Kept a closed case longer",
    "dispose": "Disposed of a closed case",
    "restrict_processing": "Restricted processing",
    "lift_restriction": "Lifted a restriction of processing",
    "request_subject_access": "Asked for a subject access pack",
    "view_subject_access": "Viewed a subject access request",
    "answer_subject_access": "Built a subject access pack",
    "download_subject_access": "Downloaded a subject access pack",
    "upload": "Uploaded referrals",
    "view_contact_safety": "Viewed how to contact them safely",
    "update_contact_safety": "Changed how to contact them safely",
    "list_caseload": "Listed their caseload",
    "list_inbox": "Listed the inbox",
    "recheck_eligibility": "Checked eligibility again",
}
ACCESS_RECORDS = {
    "case": "Case",
    "person": "Person",
    "entry": "Chronology entry",
    "adversity": "Adversity or strength",
    "action": "Action",
    "referral": "Referral",
    "enrolment": "Programme enrolment",
    "programme_intake": "Programme intake",
    "break_glass": "Emergency access",
    "access_log": "Access log",
    "change_feed": "Change feed",
    "report": "Partnership figures",
    "enrolment_session": "Programme session",
    "milestone": "Programme milestone",
    "programme": "Programme",
    "subject_access": "Subject access request",
    "referral_upload": "Referral upload",
}


def _readable(code: str, labels: dict) -> str:
    return labels.get(code) or code.replace("_", " ").capitalize()


def access_log_for_display(rows) -> list:
    """A page of access-log rows (already limited to what the reader may see) with a label for
    each action and record type, and the reference of the case each row is about. Ids are shown
    in full: an auditor copies them into a search. Never `detail`."""
    rows = list(rows)
    case_ids = {r.case_id for r in rows if r.case_id}
    case_ids |= {r.object_id for r in rows if r.object_type == "case" and r.object_id}
    references = {
        str(pk): reference
        for pk, reference in Case.objects.filter(
            pk__in=[i for i in case_ids if _is_uuid(i)]
        ).values_list("pk", "reference")
    }
    for r in rows:
        r.role_label = _readable(r.role, ROLE_LABELS) if r.role else r.role
        r.action_label = _readable(r.action, ACCESS_ACTIONS)
        r.record_label = _readable(r.object_type, ACCESS_RECORDS)
        case_id = r.case_id or (r.object_id if r.object_type == "case" else None)
        r.case_reference = references.get(str(case_id)) if case_id else None
    return rows


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
