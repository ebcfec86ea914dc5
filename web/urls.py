from django.urls import path

from web.views import (
    audit,
    cases,
    casework,
    followups,
    governance,
    governance_reports,
    home,
    manager,
    people,
    programmes,
    referral_upload,
    referrals,
    reports,
    retention,
    safety,
    wellbeing,
)

app_name = "web"

urlpatterns = [
    path("", home.my_work, name="home"),
    path("session/keep-alive/", home.keep_alive, name="keep-alive"),
    path("session/status/", home.session_status, name="session-status"),
    # Cases
    path("cases/", cases.case_list, name="cases"),
    path("cases/emergency-access/", cases.case_emergency_access, name="emergency-access"),
    path("cases/<uuid:case_id>/", cases.case_detail, name="case"),
    path("cases/<uuid:case_id>/voice/", cases.case_voice, name="case-voice"),
    path("cases/<uuid:case_id>/summary/", cases.case_summary, name="case-summary"),
    path("cases/<uuid:case_id>/status/", cases.case_status, name="case-status"),
    path("cases/<uuid:case_id>/share/", cases.case_share, name="case-share"),
    path(
        "cases/<uuid:case_id>/shares/<slug:partner_slug>/end/",
        cases.case_unshare,
        name="case-unshare",
    ),
    path("cases/<uuid:case_id>/access-log/", cases.case_access_log, name="case-access-log"),
    # People on a case
    path(
        "cases/<uuid:case_id>/people/<uuid:person_id>/edit/",
        people.person_edit,
        name="person-edit",
    ),
    path(
        "cases/<uuid:case_id>/people/<uuid:person_id>/safety/",
        safety.person_safety,
        name="person-safety",
    ),
    path("cases/<uuid:case_id>/household/new/", people.household_add, name="household-add"),
    path(
        "cases/<uuid:case_id>/relationships/new/",
        people.relationship_add,
        name="relationship-add",
    ),
    path("cases/<uuid:case_id>/consents/new/", people.consent_add, name="consent-add"),
    # Case work
    path("cases/<uuid:case_id>/entries/new/", casework.entry_add, name="entry-add"),
    path("cases/<uuid:case_id>/adversities/new/", casework.adversity_add, name="adversity-add"),
    path("adversities/<uuid:record_id>/share/", casework.adversity_share, name="adversity-share"),
    path("cases/<uuid:case_id>/actions/new/", casework.action_add, name="action-add"),
    path("entries/<uuid:entry_id>/correct/", casework.entry_correct, name="entry-correct"),
    path("actions/<uuid:action_id>/status/", casework.action_status, name="action-status"),
    path("actions/<uuid:action_id>/change/", casework.action_change, name="action-change"),
    path("referrals/<uuid:referral_id>/screen/", casework.referral_screen, name="referral-screen"),
    path(
        "referrals/<uuid:referral_id>/screening/answer/",
        casework.referral_screening_answer,
        name="referral-screening-answer",
    ),
    # Referrals
    path("referrals/new/", referrals.referral_new, name="referral-new"),
    path(
        "people/<uuid:person_id>/new-referral/",
        referrals.referral_for_person,
        name="person-new-case",
    ),
    path("referrals/upload/", referral_upload.referral_upload, name="referral-upload"),
    path(
        "referrals/uploads/<uuid:upload_id>/",
        referral_upload.referral_upload_job,
        name="referral-upload-job",
    ),
    path(
        "referrals/uploads/<uuid:upload_id>/progress/",
        referral_upload.referral_upload_progress,
        name="referral-upload-progress",
    ),
    # Programmes
    path("cases/<uuid:case_id>/programmes/", programmes.case_programmes, name="case-programmes"),
    path(
        "cases/<uuid:case_id>/programmes/<slug:slug>/refer/",
        programmes.case_refer,
        name="case-refer",
    ),
    path("programmes/", programmes.programme_list, name="programmes"),
    path("programmes/<slug:slug>/intake/", programmes.intake_board, name="intake"),
    path("programmes/<slug:slug>/offer-next/", programmes.offer_next, name="offer-next"),
    path("enrolments/<uuid:enrolment_id>/", programmes.enrolment_detail, name="enrolment"),
    path(
        "enrolments/<uuid:enrolment_id>/next-session/",
        programmes.session_book,
        name="session-book",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/programme-details/",
        programmes.programme_part,
        name="enrolment-programme-part",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/eligibility/",
        programmes.eligibility_recheck,
        name="enrolment-recheck",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/key-worker/",
        programmes.key_worker_set,
        name="enrolment-key-worker",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/sessions/new/",
        programmes.session_add,
        name="session-add",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/milestones/new/",
        programmes.milestone_add,
        name="milestone-add",
    ),
    # Follow-ups and notifications
    path("follow-ups/", followups.followup_list, name="followups"),
    path("follow-ups/<uuid:followup_id>/done/", followups.followup_done, name="followup-done"),
    path(
        "notifications/<uuid:notification_id>/read/",
        followups.notification_read,
        name="notification-read",
    ),
    # Managers
    path("manager/caseload/", manager.caseload, name="caseload"),
    path("manager/screening/", manager.screening_queue, name="screening"),
    path("manager/staff/", manager.staff, name="staff"),
    path("manager/staff/<uuid:user_id>/", wellbeing.staff_member, name="staff-member"),
    path(
        "manager/staff/<uuid:user_id>/check-ins/new/",
        wellbeing.staff_check_in_new,
        name="staff-check-in-new",
    ),
    path(
        "manager/staff/<uuid:user_id>/training/new/",
        wellbeing.staff_training_new,
        name="staff-training-new",
    ),
    path("manager/break-glass/", manager.break_glass_requests, name="break-glass-requests"),
    path("manager/retention/", retention.retention_queue, name="retention"),
    path(
        "cases/<uuid:case_id>/retention/extend/",
        retention.retention_extend,
        name="retention-extend",
    ),
    path(
        "cases/<uuid:case_id>/retention/dispose/",
        retention.retention_dispose,
        name="retention-dispose",
    ),
    path("cases/<uuid:case_id>/legal-hold/", retention.legal_hold, name="legal-hold"),
    # Information rights: subject access and restriction of processing
    path(
        "people/<uuid:person_id>/information-rights/",
        governance.person_rights,
        name="person-rights",
    ),
    path(
        "people/<uuid:person_id>/subject-access/",
        governance.subject_access_start,
        name="subject-access-start",
    ),
    path("people/<uuid:person_id>/restriction/", governance.restriction, name="person-restriction"),
    path(
        "subject-access/<uuid:request_id>/download/",
        governance.subject_access_download,
        name="subject-access-download",
    ),
    path(
        "subject-access/<uuid:request_id>/answered/",
        governance.subject_access_answered,
        name="subject-access-answered",
    ),
    # Supervision and wellbeing: one's own, and check-ins (for their subject and supervisors)
    path("supervision/", wellbeing.my_supervision, name="my-supervision"),
    path("supervision/new/", wellbeing.my_check_in_new, name="my-check-in-new"),
    path("supervision/training/new/", wellbeing.my_training_new, name="my-training-new"),
    path("supervision/check-ins/<uuid:check_in_id>/", wellbeing.check_in, name="check-in"),
    path(
        "supervision/check-ins/<uuid:check_in_id>/sign-off/",
        wellbeing.check_in_sign_off,
        name="check-in-sign-off",
    ),
    # Information governance
    path("audit/access-log/", audit.access_log, name="access-log"),
    path("audit/break-glass/", audit.break_glass, name="break-glass"),
    path(
        "audit/break-glass/<uuid:event_id>/reviewed/",
        audit.break_glass_reviewed,
        name="break-glass-reviewed",
    ),
    # Partnership figures
    path("reports/", reports.partnership, name="reports"),
    path("reports/partnership.csv", reports.partnership_csv, name="reports-csv"),
    path("reports/staff-wellbeing/", wellbeing.wellbeing_report, name="wellbeing-report"),
    # Record of processing (UK GDPR Art. 30), for the partnership's auditors
    path(
        "governance/processing/",
        governance_reports.processing_record,
        name="processing-record",
    ),
    path(
        "governance/processing.csv",
        governance_reports.processing_record_csv,
        name="processing-record-csv",
    ),
]
