"""Adding to a case: chronology entries, adversities and strengths, actions, joint screening."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cases import access as case_access
from casework import access, services
from casework.models import ScreeningDecision, ScreeningStatus
from casework.selectors import users_on_case
from casework.vocabularies import ScreeningOutcome, label
from core.errors import DomainError, PreconditionFailed
from partners.models import Partner
from programmes import selectors as programme_selectors
from web.forms.casework import (
    ActionChangeForm,
    ActionForm,
    ActionStatusForm,
    AdversityForm,
    EntryCorrectionForm,
    EntryForm,
    ScreeningForm,
)
from web.pages import form_error, page


def _to_case(case, anchor: str):
    return redirect(reverse("web:case", args=[case.pk]) + f"#{anchor}")


def _contributing_case(actor, case_id, what: str):
    """The case, if the actor sees it (else 404) and their partner works it (else 403)."""
    case = case_access.case_get_for(actor, case_id, log_as="view")
    access.check_contributor(actor, case, what=what)
    return case


@page(case_access.writes_case_content)
def entry_add(request, actor, case_id):
    case = _contributing_case(actor, case_id, "add_entry")
    users = list(users_on_case(case).exclude(pk=actor.user.pk))
    form = EntryForm(request.POST or None, users=users)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        named = [u for u in users if str(u.pk) in set(data["named_users"])]
        try:
            services.entry_create(
                actor=actor,
                case=case,
                kind=data["kind"],
                occurred_at=form.occurred_at(),
                body=data["body"],
                visibility=data["visibility"],
                named_users=named if data["visibility"] == "named" else (),
            )
        except DomainError as exc:
            form_error(form, exc, {"occurred_at": "occurred_on"})
        else:
            messages.success(request, "The entry has been added to the chronology.")
            return _to_case(case, "chronology")
    return render(
        request,
        "web/casework/entry_form.html",
        {"case": case, "form": form, "heading": "Add a chronology entry", "button": "Add entry"},
    )


@page(case_access.writes_case_content)
def adversity_add(request, actor, case_id):
    case = _contributing_case(actor, case_id, "add_adversity")
    form = AdversityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.adversity_create(
                actor=actor,
                case=case,
                code=data["code"],
                source=data["source"],
                sensitive=data["sensitive"],
                note=data["note"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Recorded.")
            return _to_case(case, "adversities")
    return render(
        request,
        "web/casework/form_page.html",
        {"case": case, "form": form, "heading": "Record an adversity or strength"},
    )


@page(case_access.writes_case_content)
def adversity_share(request, actor, record_id):
    record = access.adversity_get_for(actor, record_id, log_as="view")
    case = record.case
    partners = [
        p
        for p in case_access.partners_with_access(case)
        if p.pk != record.partner_id and p not in record.shared_with.all()
    ]
    error = ""
    if request.method == "POST":
        partner = next((p for p in partners if p.slug == request.POST.get("partner")), None)
        if partner is None:
            error = "Select a partner to share this with"
        else:
            try:
                services.adversity_share(actor=actor, record=record, partner=partner)
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, f"{partner.name} can now see this record.")
                return _to_case(case, "adversities")
    if not access.can_share_adversity(actor, record):
        return render(
            request,
            "403.html",
            {"exception": "Only the partner that recorded this can share it."},
            status=403,
        )
    return render(
        request,
        "web/casework/adversity_share.html",
        {
            "case": case,
            "record": record,
            "record_label": label("adversities", record.code),
            "partners": partners,
            "error": error,
        },
    )


@page(case_access.writes_case_content)
def action_add(request, actor, case_id):
    case = _contributing_case(actor, case_id, "add_action")
    users = list(users_on_case(case))
    form = ActionForm(request.POST or None, users=users, initial={"owner": str(actor.user.pk)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = next(u for u in users if str(u.pk) == data["owner"])
        try:
            services.action_create(
                actor=actor,
                case=case,
                title=data["title"],
                description=data["description"],
                due_date=data["due_date"],
                owner_user=owner,
            )
        except DomainError as exc:
            form_error(form, exc, {"owner_user": "owner", "owner_partner": "owner"})
        else:
            messages.success(request, "The action has been added.")
            return _to_case(case, "actions")
    return render(
        request,
        "web/casework/form_page.html",
        {"case": case, "form": form, "heading": "Add an action", "button": "Add action"},
    )


@page(case_access.writes_case_content)
def action_status(request, actor, action_id):
    """Mark an action done or cancelled (a POST from the case page). A post that cannot be used
    (no status or an unknown one, a version that is not a number) gets the question asked on a
    page of its own, with the error, instead of failing."""
    action = access.action_get_for(actor, action_id, log_as=None)
    if request.method != "POST":
        return redirect("web:case", case_id=action.case_id)
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        status = form.cleaned_data["status"]
        try:
            services.action_update(
                actor=actor,
                action=action,
                expected_version=form.cleaned_data["version"],
                data={"status": status},
            )
        except PreconditionFailed:
            messages.success(
                request, "Someone else changed this action first. Check it and try again."
            )
            return _to_case(action.case, "actions")
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Action marked {status}.")
            return _to_case(action.case, "actions")
    if "version" in form.errors:
        # Nobody can correct a hidden field: ask again about the action as it is now.
        data = request.POST.copy()
        data["version"] = str(action.version)
        form = ActionStatusForm(data)
        form.is_valid()
        form.add_error(None, "This page was out of date. Check the action, then choose again.")
    # The page shows whose case this is: from here on it is a view, and logged as one.
    action = access.action_get_for(actor, action_id, log_as="view")
    return render(
        request,
        "web/casework/form_page.html",
        {
            "case": action.case,
            "form": form,
            "heading": "Mark an action done or cancelled",
            "intro": f"‘{action.title}’",
            "button": "Save",
        },
        status=400,
    )


def _to_referral(referral):
    return _to_case(referral.case, f"referral-{referral.pk}")


class ScreeningOutcomeForm(ScreeningForm):
    """The screening decision, with what an outcome sets going: the partner that does the early
    help, or the programme to refer to (its referral form opens next, filled in from the
    referral)."""

    early_help_partner = forms.ChoiceField(
        label="Which partner does the early help? (for Early help)",
        help_text="They are given the task when the decision takes effect.",
        required=False,
        widget=forms.RadioSelect,
    )
    programme = forms.ChoiceField(
        label="Which programme? (for Programme referral)",
        help_text="Its referral form opens next, with what is already known filled in.",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, partners=(), on_case=(), programmes=(), **kwargs):
        super().__init__(*args, partners=partners, **kwargs)
        self.fields["early_help_partner"].choices = [(p.slug, p.name) for p in on_case]
        self.fields["programme"].choices = [(p.slug, p.name) for p in programmes]

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == ScreeningOutcome.EARLY_HELP and not data.get("early_help_partner"):
            self.add_error("early_help_partner", "Select the partner that does the early help")
        if outcome != ScreeningOutcome.EARLY_HELP and data.get("early_help_partner"):
            self.add_error("early_help_partner", "Name a partner only for early help")
        if outcome != ScreeningOutcome.PROGRAMME_REFERRAL and data.get("programme"):
            self.add_error("programme", "Choose a programme only for a programme referral")
        return data


@page(case_access.writes_case_content)
def referral_screen(request, actor, referral_id):
    """Propose the screening decision. It stays single-agency until another partner on the case
    confirms it (on the case page, or referral_screening_answer below)."""
    referral = access.referral_get_for(actor, referral_id, log_as="view")
    case = referral.case
    access.check_contributor(actor, case, what="screen")
    standing = getattr(referral, "screening", None)
    if standing is not None and standing.status != ScreeningStatus.CHALLENGED:
        messages.success(
            request,
            "This referral already has a screening decision. Another partner on the case can "
            "confirm or challenge it.",
        )
        return _to_referral(referral)
    on_case = list(case_access.partners_with_access(case))
    partners = [p for p in on_case if p.pk != actor.partner.pk]
    programmes = [p for p in programme_selectors.programme_list(actor=actor) if p.active]
    form = ScreeningOutcomeForm(
        request.POST or None, partners=partners, on_case=on_case, programmes=programmes
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = Partner.objects.filter(slug__in=data["participants"])
        early_help = next((p for p in on_case if p.slug == data["early_help_partner"]), None)
        try:
            services.referral_screen(
                actor=actor,
                referral=referral,
                outcome=data["outcome"],
                reasons=data["reasons"],
                participants=list(chosen),
                participant_names=data["participant_names"],
                early_help_partner=early_help,
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            if data["programme"]:
                messages.success(
                    request,
                    "The screening decision has been recorded as a proposal. Now make the "
                    "programme referral: what is already known is filled in.",
                )
                refer = reverse("web:case-refer", args=[case.pk, data["programme"]])
                return redirect(f"{refer}?referral={referral.pk}")
            messages.success(
                request,
                "The joint screening decision has been recorded as a proposal. It is a "
                "single-agency decision until another partner on the case confirms it; they "
                "have been told.",
            )
            return _to_referral(referral)
    return render(
        request,
        "web/casework/screening_form.html",
        {"case": case, "referral": referral, "form": form, "partners": partners},
    )


class ScreeningAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        choices=ScreeningDecision.choices,
        label="Does your organisation agree with this decision?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you confirm or challenge the decision"},
    )
    reason = forms.CharField(
        label="Your reason",
        help_text="Required. Shown to everyone on the case with the decision.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Give the reason for your answer"},
    )


@page(case_access.writes_case_content)
def referral_screening_answer(request, actor, referral_id):
    """Another partner on the case confirms or challenges the proposed screening decision."""
    referral = access.referral_get_for(actor, referral_id, log_as="view")
    access.check_answer_screening(actor, referral)
    form = ScreeningAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            screening = services.referral_screening_answer(
                actor=actor, referral=referral, decision=data["decision"], reason=data["reason"]
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                "You confirmed the decision: it is now screened jointly."
                if screening.joint
                else "You challenged the decision. It has been reopened, and a new decision is "
                "needed; the partner that proposed it has been told.",
            )
            return _to_referral(referral)
    screening = getattr(referral, "screening", None)
    return render(
        request,
        "web/casework/screening_answer.html",
        {
            "case": referral.case,
            "referral": referral,
            "screening": screening,
            "form": form,
            "heading": "Confirm or challenge the screening decision",
            "button": "Send your answer",
        },
        status=400 if form.is_bound else 200,
    )


@page(case_access.writes_case_content)
def entry_correct(request, actor, entry_id):
    """Correct a chronology entry. What it said before is kept and shown as its history."""
    entry = access.entry_get_for(actor, entry_id, log_as="view")
    case = entry.case
    access.check_amend_entry(actor, entry)
    local = timezone.localtime(entry.occurred_at)
    form = EntryCorrectionForm(
        request.POST or None,
        initial={
            "version": entry.version, "kind": entry.kind, "occurred_on": local.date(),
            "occurred_time": local.strftime("%H:%M"), "body": entry.body,
        },
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        when = form.occurred_at()
        changes = {"kind": data["kind"], "body": data["body"]}
        # Keep the recorded time unless the date or time was actually changed.
        if timezone.localtime(when).replace(second=0, microsecond=0) != local.replace(
            second=0, microsecond=0
        ):
            changes["occurred_at"] = when
        try:
            services.entry_amend(
                actor=actor, entry=entry, expected_version=data["version"],
                reason=data["reason"], data=changes,
            )  # fmt: skip
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else corrected this entry while you were working on it. Nothing you "
                "entered has been saved. Go back to the case to see their correction, then try "
                "again.",
            )
        except DomainError as exc:
            form_error(form, exc, {"occurred_at": "occurred_on"})
        else:
            messages.success(request, "The entry has been corrected. What it said before is kept.")
            return redirect(reverse("web:case", args=[case.pk]) + f"#entry-{entry.pk}")
    return render(
        request,
        "web/casework/entry_correct.html",
        {
            "case": case,
            "entry": entry,
            "form": form,
            "heading": "Correct a chronology entry",
            "button": "Save correction",
        },
    )


def _owner_choice(action) -> str:
    if action.owner_user_id:
        return f"user:{action.owner_user_id}"
    return f"partner:{action.owner_partner.slug}"


@page(case_access.writes_case_content)
def action_change(request, actor, action_id):
    """Reassign an action or move its due date, if nobody has changed it since it was read."""
    action = access.action_get_for(actor, action_id, log_as="view")
    access.check_change_action(actor, action)
    case = action.case
    users = list(users_on_case(case))
    partners = list(case_access.partners_with_access(case).order_by("name"))
    form = ActionChangeForm(
        request.POST or None,
        users=users,
        partners=partners,
        current_due=action.due_date,
        initial={"version": action.version, "owner": _owner_choice(action), "due_date": action.due_date},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, _, key = data["owner"].partition(":")
        if kind == "user":
            owner = {
                "owner_user": next(u for u in users if str(u.pk) == key),
                "owner_partner": None,
            }
        else:
            owner = {
                "owner_user": None,
                "owner_partner": next(p for p in partners if p.slug == key),
            }
        try:
            services.action_update(
                actor=actor, action=action, expected_version=data["version"],
                data={**owner, "due_date": data["due_date"]},
            )  # fmt: skip
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else changed this action while you were working on it. Nothing you "
                "entered has been saved. Go back to the case to see the change, then try again.",
            )
        except DomainError as exc:
            form_error(form, exc, {"owner_user": "owner", "owner_partner": "owner"})
        else:
            messages.success(request, "The action has been updated.")
            return _to_case(case, f"action-{action.pk}")
    return render(
        request,
        "web/casework/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Change who does this action, or when",
            "intro": f"‘{action.title}’",
            "button": "Save changes",
        },
    )
