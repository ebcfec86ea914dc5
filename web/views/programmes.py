"""Programmes: referring from a case, and the coordinator's intake board per programme."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import Access, access_record
from cases import access as case_access
from cases.selectors import family_in_prison
from core.errors import Conflict, DomainError, Forbidden, PreconditionFailed
from programmes import access, selectors, services
from programmes.config import as_date, programme_fields
from programmes.eligibility import age_on, checked_at, eligibility_headline, evaluate, seen_by
from programmes.models import CLOSED, OPEN, Attendance, EnrolmentStatus
from web.forms.fields import radio
from web.forms.programmes import BookSessionForm, MilestoneForm, SessionForm
from web.intake_forms import (
    PROGRAMME,
    REFERRER,
    SEP,
    code_label,
    details_from,
    details_shown,
    error_field,
    intake_form_class,
)
from web.pages import form_error, page
from web.views.safety import safety_context

BOARD_COLUMNS = [s for s in EnrolmentStatus if s in OPEN]


def _eligibility_lines(eligibility: dict) -> list[dict]:
    return [
        {
            "met": r.get("outcome") == "met",
            "outcome": r.get("outcome"),
            "text": r.get("explanation", ""),
        }
        for r in (eligibility or {}).get("rules", [])
    ]


@page(case_access.reads_case_content)
def case_programmes(request, actor, case_id):
    """Choose a programme to refer the person to."""
    case = case_access.case_get_for(actor, case_id, log_as="view")
    access.check_can_refer(actor, case)
    programmes = [p for p in selectors.programme_list(actor=actor) if p.active]
    return render(request, "web/programmes/choose.html", {"case": case, "programmes": programmes})


def _screened_referral(actor, case, referral_id):
    """The referral a screening decision sent here from (?referral=), if it is on this case and
    the actor may see it; otherwise none (nothing is said about why)."""
    if not referral_id:
        return None
    from casework import access as casework_access

    try:
        referral = casework_access.referral_get_for(actor, referral_id, log_as="view")
    except (DomainError, ValueError):
        return None
    return referral if referral.case_id == case.pk else None


def _known_from_referral(referral, schema: dict) -> dict:
    """From the referral the decision was made on: the incident's time, where the programme asks
    for the arrest time (a PPN from custody)."""
    properties = schema.get("properties") or {}
    if referral is None or not referral.incident_date or "arrested_at" not in properties:
        return {}
    moment = dt.datetime.combine(referral.incident_date, referral.incident_time or dt.time(0, 0))
    return {"arrested_at": timezone.make_aware(moment)}


# How a recorded relationship reads in an intake form that asks who the imprisoned relative is.
INTAKE_RELATIONSHIP = {"carer": "carer", "sibling": "sibling", "other": "other"}


def _known_family(actor, case, schema: dict) -> dict:
    """What the case already knows, so the referrer does not type it again: for a programme that
    asks about an imprisoned family member (Invisible Walls), the one recorded on the case."""
    properties = schema.get("properties") or {}
    if "imprisoned_family_member" not in properties:
        return {}
    family = family_in_prison(actor, case)
    if len(family) != 1:
        return {}  # none, or several: the referrer says which
    person, member, kind = family[0]
    initial = {f"imprisoned_family_member{SEP}name": person.display_name}
    if kind in INTAKE_RELATIONSHIP:
        initial[f"imprisoned_family_member{SEP}relationship"] = INTAKE_RELATIONSHIP[kind]
    if member.place and "prison" in properties:
        initial["prison"] = member.place
    if member.expected_release_date and "expected_release_date" in properties:
        initial["expected_release_date"] = member.expected_release_date
    return initial


@page(case_access.reads_case_content)
def case_refer(request, actor, case_id, slug):
    case = case_access.case_get_for(actor, case_id, log_as="view")
    access.check_can_refer(actor, case)
    programme = selectors.programme_detail(actor=actor, slug=slug)
    referral = _screened_referral(actor, case, request.GET.get("referral"))
    initial = {
        **_known_from_referral(referral, programme.intake_schema),
        **_known_family(actor, case, programme.intake_schema),
    }
    form = intake_form_class(programme.intake_schema, part=REFERRER)(
        request.POST or None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = services.enrolment_create(
                actor=actor,
                programme=programme,
                person=case.subject,
                case=case,
                details=details_from(form),
            )
        except DomainError as exc:
            fields = {k: error_field(k) for k in (exc.fields or {})}
            form_error(form, exc, fields)
        else:
            verdict = enrolment.eligibility.get("summary", "")
            messages.success(request, f"Referred to {programme.name}. {verdict}")
            return redirect(reverse("web:case", args=[case.pk]) + "#programmes")
    # Before sending: what the rules say of the person and the case (and of the details, once
    # given), so a referral that cannot be taken is known as such by the person sending it.
    typed = details_from(form) if hasattr(form, "cleaned_data") else {}
    preview = evaluate(
        programme.eligibility, actor=actor, person=case.subject, case=case, details=typed
    )
    return render(
        request,
        "web/programmes/refer.html",
        {
            "case": case,
            "programme": programme,
            "form": form,
            "preview": preview,
            "referral": referral,
            "preview_headline": eligibility_headline(programme, preview),
            "preview_rules": _eligibility_lines(preview),
        },
    )


@page(access.uses_programmes)
def programme_list(request, actor):
    programmes = list(selectors.programme_list(actor=actor))
    for p in programmes:
        p.coordinating = access.is_coordinator(actor, p)
    return render(request, "web/programmes/list.html", {"programmes": programmes})


@page(access.uses_programmes)
def intake_board(request, actor, slug):
    programme = access.programme_for_intake(actor, slug)
    programme = selectors.programme_detail(actor=actor, slug=slug)
    queue = list(selectors.intake_queue(actor=actor, programme=programme))
    access.log_enrolment_access(actor, queue, action="list_intake")
    columns = {s: [] for s in BOARD_COLUMNS}
    waiting_position = 0
    seen = seen_by(actor, queue)  # eligibility as this coordinator may see it
    for e in queue:
        e.age = age_on(e.person.date_of_birth, e.referred_at.date())
        e.seen_eligibility = seen[e.pk]
        e.rules = _eligibility_lines(e.seen_eligibility)
        if e.status == EnrolmentStatus.WAITLISTED:
            waiting_position += 1
            e.position = waiting_position
        columns[e.status].append(e)
    return render(
        request,
        "web/programmes/board.html",
        {
            "programme": programme,
            "columns": [(EnrolmentStatus(s).label, s, columns[s]) for s in BOARD_COLUMNS],
            "free": max(programme.capacity - programme.places_taken, 0),
        },
    )


@require_POST
@page(access.uses_programmes)
def offer_next(request, actor, slug):
    programme = access.programme_for_intake(actor, slug, action="offer_next")
    try:
        enrolment = services.programme_offer_next(
            actor=actor, programme=programme, reason=request.POST.get("reason", "")
        )
    except Conflict as exc:
        messages.success(request, exc.message)
    else:
        messages.success(
            request,
            f"A place was offered to {enrolment.person.display_name}, first on the waiting list.",
        )
    return redirect("web:intake", slug=slug)


class TransitionForm(forms.Form):
    to = radio([], "What happens next?", error_messages={"required": "Select what happens next"})
    reason = forms.CharField(
        label="Reason",
        help_text="Needed when someone is found ineligible, withdraws or declines, or is offered "
        "a place while others are on the waiting list. Kept with the decision and shown to the "
        "referrer.",
        widget=forms.Textarea,
        required=False,
        max_length=2000,
    )
    outcome = forms.ChoiceField(label="Outcome at exit", required=False)
    outcome_notes = forms.CharField(
        label="Notes on the outcome (optional)",
        help_text="What they achieved or what got in the way, in their words where you can.",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )
    override_eligibility = forms.BooleanField(
        label="Confirm eligibility although a rule is not met (give the reason above)",
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, moves=(), outcomes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(m, EnrolmentStatus(m).label) for m in moves]
        self.fields["outcome"].choices = [("", "Not applicable"), *outcomes]


def _moves(enrolment) -> list[str]:
    moves = services.moves_from(enrolment.status)
    if not getattr(enrolment, "coordinated", False):
        moves = [m for m in moves if m in access.CASE_WORKER_MOVES]
    return moves


def _pairs(items) -> list[tuple[str, str]]:
    return [(i["code"], i["label"]) for i in items or []]


class RecordSessionForm(SessionForm):
    missed_reason = forms.CharField(
        label="If they missed it, why?",
        help_text="For example, unwell, no credit on their phone, moved away. Kept with the session.",
        widget=forms.Textarea,
        required=False,
        max_length=2000,
    )

    def clean(self):
        data = super().clean()
        if data.get("attendance") == Attendance.MISSED:
            if not (data.get("missed_reason") or "").strip():
                self.add_error("missed_reason", "Say why they missed the session")
        else:
            # Typed before choosing another answer: only a missed session keeps a reason.
            data["missed_reason"] = ""
        return data


def _session_form(enrolment, data=None):
    return RecordSessionForm(data, kinds=_pairs(enrolment.programme.session_kinds))


def _booking_form(enrolment, data=None):
    return BookSessionForm(data, kinds=_pairs(enrolment.programme.session_kinds))


def _milestone_form(enrolment, data=None):
    return MilestoneForm(data, milestones=_pairs(enrolment.programme.milestones))


def _log_children(actor, enrolment, items, object_type: str) -> None:
    if items:
        access_record(
            actor=actor,
            action="list",
            accesses=[
                Access(
                    object_type, item.pk, case_id=enrolment.case_id,
                    person_id=enrolment.person_id, justification=access.justification(enrolment),
                )
                for item in items
            ],
        )  # fmt: skip


class KeyWorkerForm(forms.Form):
    key_worker = forms.ChoiceField(
        label="Key worker",
        help_text="The coach or mentor who works with them: the programme's check-ins go to them, "
        "and the enrolment is on their caseload.",
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_worker"].choices = [("", "Nobody yet")] + [
            (str(u.pk), u.get_full_name() or u.email) for u in people
        ]


def _key_worker_choices(programme):
    return list(access.key_worker_candidates(programme).order_by("full_name", "email"))


def _facts_changed_since_check(actor, enrolment, checked) -> bool:
    """Has anything the rules read changed since they were last run, in what this reader may
    see? The person's record, or an adversity recorded on the case (only when they can open it:
    a coordinator who cannot is not told that something was recorded)."""
    if checked is None:
        return False
    person = enrolment.person
    # A change to how to contact them safely alone is not one the rules read.
    if person.updated_at > checked and person.updated_at != person.contact_safety_updated_at:
        return True
    if not getattr(enrolment, "case_visible", False):
        return False
    from casework.access import adversities_visible_to

    return adversities_visible_to(actor, enrolment.case).filter(recorded_at__gt=checked).exists()


def _enrolment_page(request, actor, enrolment, *, form=None, session_form=None,
                    milestone_form=None, key_worker_form=None, booking_form=None,
                    status=200):  # fmt: skip
    programme = enrolment.programme
    moves = _moves(enrolment)
    outcomes = _pairs(programme.outcomes)
    form = form or TransitionForm(
        moves=moves, outcomes=outcomes, initial={"version": enrolment.version}
    )
    coordinated = getattr(enrolment, "coordinated", False)
    eligibility = seen_by(actor, [enrolment])[enrolment.pk]  # as this reader may see it
    sessions = list(
        access.sessions_visible_to(actor)
        .filter(enrolment=enrolment)
        .select_related("recorded_by", "partner")
        .order_by("-occurred_at")
    )
    milestones = list(
        access.milestones_visible_to(actor)
        .filter(enrolment=enrolment)
        .select_related("recorded_by", "partner")
        .order_by("achieved_on")
    )
    _log_children(actor, enrolment, sessions, "enrolment_session")
    _log_children(actor, enrolment, milestones, "milestone")
    session_labels = dict(_pairs(programme.session_kinds))
    milestone_labels = dict(_pairs(programme.milestones))
    for item in sessions:
        item.label = session_labels.get(item.kind, code_label(item.kind))
    for item in milestones:
        item.label = milestone_labels.get(item.code, code_label(item.code))
    reached = {m.code for m in milestones}
    details = details_shown(programme.intake_schema, enrolment.details)
    properties = programme.intake_schema.get("properties") or {}
    still_to_record = [
        properties[name].get("title") or code_label(name)
        for name in programme_fields(programme.intake_schema)
        if (enrolment.details or {}).get(name) in (None, "", [], {})
    ]
    checked = checked_at(enrolment.eligibility)
    open_enrolment = enrolment.status not in CLOSED
    if coordinated and open_enrolment and key_worker_form is None:
        key_worker_form = KeyWorkerForm(
            people=_key_worker_choices(programme),
            initial={
                "key_worker": str(enrolment.key_worker_id or ""),
                "version": enrolment.version,
            },
        )
    return render(
        request,
        "web/programmes/enrolment.html",
        {
            "enrolment": enrolment,
            "programme": programme,
            "form": form,
            "moves": moves,
            "eligibility": eligibility,
            "rules": _eligibility_lines(eligibility),
            "checked_at": checked,
            "can_recheck": coordinated and open_enrolment,
            "facts_changed": coordinated
            and open_enrolment
            and _facts_changed_since_check(actor, enrolment, checked),
            "key_worker_form": key_worker_form if coordinated and open_enrolment else None,
            **safety_context(
                actor,
                enrolment.person,
                case=enrolment.case if getattr(enrolment, "case_visible", False) else None,
            ),
            "details": details,
            "still_to_record": still_to_record,
            "can_record_programme_part": coordinated
            and open_enrolment
            and bool(programme_fields(programme.intake_schema)),
            "transitions": enrolment.transitions.select_related("user", "partner").order_by("at"),
            "age": age_on(enrolment.person.date_of_birth, enrolment.referred_at.date()),
            "sessions": sessions,
            "milestones": milestones,
            "outcome_label": dict(outcomes).get(enrolment.outcome, code_label(enrolment.outcome))
            if enrolment.outcome
            else "",
            "can_record": access.can_work_enrolment(actor, enrolment) and open_enrolment,
            "booking_form": booking_form or _booking_form(enrolment),
            "next_session_label": dict(_pairs(programme.session_kinds)).get(
                enrolment.next_session_kind, code_label(enrolment.next_session_kind)
            )
            if enrolment.next_session_kind
            else "",
            "can_record_milestone": access.can_work_enrolment(actor, enrolment)
            and enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.ACTIVE)
            and any(code not in reached for code, _ in _pairs(programme.milestones)),
            "session_form": session_form or _session_form(enrolment),
            "milestone_form": milestone_form
            or MilestoneForm(
                milestones=[p for p in _pairs(programme.milestones) if p[0] not in reached]
            ),
        },
        status=status,
    )


@page(access.uses_programmes)
def enrolment_detail(request, actor, enrolment_id):
    enrolment = access.enrolment_get_for(actor, enrolment_id)
    programme = enrolment.programme
    if request.method != "POST":
        return _enrolment_page(request, actor, enrolment)
    form = TransitionForm(
        request.POST, moves=_moves(enrolment), outcomes=_pairs(programme.outcomes)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.enrolment_transition(
                actor=actor,
                enrolment=enrolment,
                to=data["to"],
                reason=data["reason"],
                outcome=data["outcome"],
                outcome_notes=data["outcome_notes"],
                override_eligibility=data["override_eligibility"],
                expected_version=data["version"],
            )
        except Forbidden:
            raise
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else moved this referral on while you were deciding. Nothing you "
                "entered has been saved. Check where it is now, then decide again.",
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"{enrolment.person.display_name} is now: {EnrolmentStatus(data['to']).label.lower()}.",
            )
            if getattr(enrolment, "coordinated", False):
                return redirect("web:intake", slug=programme.slug)
            return redirect(reverse("web:case", args=[enrolment.case_id]) + "#programmes")
    return _enrolment_page(request, actor, enrolment, form=form)


def _coordinated_enrolment(actor, enrolment_id, what: str):
    """Sessions, milestones and the next session are recorded by the programme's coordinators
    and the person's key worker."""
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as="view")
    access.check_can_work_enrolment(actor, enrolment, action=what)
    return enrolment


@require_POST
@page(access.uses_programmes)
def session_add(request, actor, enrolment_id):
    enrolment = _coordinated_enrolment(actor, enrolment_id, "add_session")
    form = _session_form(enrolment, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.session_create(
                actor=actor, enrolment=enrolment, kind=data["kind"],
                occurred_at=form.occurred_at(), attendance=data["attendance"], notes=data["notes"],
                missed_reason=data["missed_reason"],
            )  # fmt: skip
        except DomainError as exc:
            form_error(form, exc, {"occurred_at": "occurred_on"})
        else:
            messages.success(request, "The session has been recorded.")
            return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#sessions")
    return _enrolment_page(request, actor, enrolment, session_form=form)


@require_POST
@page(access.uses_programmes)
def session_book(request, actor, enrolment_id):
    """Book (or cancel) the next session with the person."""
    enrolment = _coordinated_enrolment(actor, enrolment_id, "book_session")
    if request.POST.get("cancel"):
        services.session_book(actor=actor, enrolment=enrolment, at=None)
        messages.success(request, "The booked session has been cancelled.")
        return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#sessions")
    form = _booking_form(enrolment, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.session_book(
                actor=actor, enrolment=enrolment, at=data["at"], kind=data["kind"]
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            when = timezone.localtime(data["at"])
            messages.success(request, f"The next session is booked for {when:%-d %B %Y, %H:%M}.")
            return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#sessions")
    return _enrolment_page(request, actor, enrolment, booking_form=form)


@require_POST
@page(access.uses_programmes)
def milestone_add(request, actor, enrolment_id):
    enrolment = _coordinated_enrolment(actor, enrolment_id, "add_milestone")
    form = _milestone_form(enrolment, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.milestone_create(
                actor=actor, enrolment=enrolment, code=data["code"],
                achieved_on=data["achieved_on"], note=data["note"],
            )  # fmt: skip
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "The milestone has been recorded. Well done to them.")
            return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#milestones")
    return _enrolment_page(request, actor, enrolment, milestone_form=form)


def _programme_part_initial(enrolment) -> dict:
    """The programme's fields already recorded, as the form's initial values."""
    initial: dict = {"version": enrolment.version}
    properties = enrolment.programme.intake_schema.get("properties") or {}
    for name in programme_fields(enrolment.programme.intake_schema):
        value = (enrolment.details or {}).get(name)
        if isinstance(value, dict):
            initial.update({f"{name}{SEP}{k}": v for k, v in value.items()})
        elif properties.get(name, {}).get("format") == "date" and value:
            initial[name] = as_date(value)
        elif value is not None:
            initial[name] = value
    return initial


@page(access.uses_programmes)
def programme_part(request, actor, enrolment_id):
    """The intake fields that belong to the programme's team (a coach's approach time, a
    mentor), recorded after the referral by those who run the intake."""
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as="view")
    access.check_can_run_intake(actor, enrolment, action="update")
    programme = enrolment.programme
    ours = programme_fields(programme.intake_schema)
    form_class = type(
        "ProgrammePartForm",
        (intake_form_class(programme.intake_schema, part=PROGRAMME),),
        {"version": forms.IntegerField(widget=forms.HiddenInput)},
    )
    form = form_class(request.POST or None, initial=_programme_part_initial(enrolment))
    if request.method == "POST" and form.is_valid():
        kept = {k: v for k, v in (enrolment.details or {}).items() if k not in ours}
        recorded = details_from(form)
        recorded.pop("version", None)
        try:
            services.enrolment_update(
                actor=actor, enrolment=enrolment, expected_version=form.cleaned_data["version"],
                data={"details": {**kept, **recorded}}, reason="The programme's part recorded",
            )  # fmt: skip
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else changed this referral while you were typing. Nothing has been "
                "saved: check what it says now, then record your part again.",
            )
        except DomainError as exc:
            fields = {k: error_field(k) for k in (exc.fields or {})}
            form_error(form, exc, fields)
        else:
            messages.success(request, "The programme's part of the referral has been recorded.")
            return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#details")
    return render(
        request,
        "web/programmes/programme_part.html",
        {"enrolment": enrolment, "programme": programme, "form": form},
    )


@require_POST
@page(access.uses_programmes)
def eligibility_recheck(request, actor, enrolment_id):
    """Run the programme's rules again now (a coordinator's action)."""
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as="view")
    try:
        services.enrolment_recheck_eligibility(actor=actor, enrolment=enrolment)
    except Conflict as exc:
        messages.success(request, exc.message)
    else:
        messages.success(request, "Eligibility has been checked again.")
    return redirect(reverse("web:enrolment", args=[enrolment.pk]) + "#eligibility")


@require_POST
@page(access.uses_programmes)
def key_worker_set(request, actor, enrolment_id):
    """A coordinator gives the enrolment to a coach or mentor (or takes it back)."""
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as="view")
    access.check_can_run_intake(actor, enrolment, action="update")
    people = _key_worker_choices(enrolment.programme)
    form = KeyWorkerForm(request.POST, people=people)
    if form.is_valid():
        chosen = form.cleaned_data["key_worker"]
        key_worker = next((u for u in people if str(u.pk) == chosen), None)
        try:
            services.enrolment_update(
                actor=actor, enrolment=enrolment, expected_version=form.cleaned_data["version"],
                data={"key_worker": key_worker},
            )  # fmt: skip
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else changed this enrolment while you were choosing. Nothing has been "
                "saved. Check who the key worker is now, then choose again.",
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            who = key_worker.get_full_name() if key_worker else "nobody"
            messages.success(request, f"The key worker is now {who}.")
            return redirect(reverse("web:enrolment", args=[enrolment.pk]))
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as=None)
    return _enrolment_page(request, actor, enrolment, key_worker_form=form, status=400)
