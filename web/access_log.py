"""The access log, readable: what each action code and record type means, in the words the
pages use, and the case each row is about. Presentation only: which rows a reader may see is
cases.access.access_log_visible_to's decision, made before rows reach here."""

from __future__ import annotations

from cases import selectors as case_selectors
from partners.models import ROLE_LABELS

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
    "book_session": "Booked the next session",
    "list_check_ins": "Listed supervision check-ins",
    "record_check_in": "Recorded a supervision check-in",
    "sign_off_check_in": "Signed off a supervision check-in",
    "record_training": "Recorded trauma training",
    "list_training": "Listed training records",
    "view_check_in": "Viewed a supervision check-in",
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
    "supervision_check_in": "Supervision check-in",
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
    references = case_selectors.case_references(case_ids)
    for r in rows:
        r.role_label = _readable(r.role, ROLE_LABELS) if r.role else r.role
        r.action_label = _readable(r.action, ACCESS_ACTIONS)
        r.record_label = _readable(r.object_type, ACCESS_RECORDS)
        case_id = r.case_id or (r.object_id if r.object_type == "case" else None)
        r.case_reference = references.get(str(case_id)) if case_id else None
    return rows
