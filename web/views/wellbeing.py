"""Supervision and wellbeing: a member of staff's own check-ins and training ("My supervision"), a
manager's view of each member of their staff, recording and signing off check-ins, and the team's
figures. Rights are wellbeing.access's; the services check them again, and every read is logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import Access, access_record
from core.errors import Conflict, ValidationFailed
from web import reports as report_pages
from web.forms.wellbeing import CheckInForm, TrainingRecordForm
from web.pages import form_error, page
from wellbeing import access, selectors, services
from wellbeing.reports import ON_TIME_COLUMNS, SUPPORT_COLUMNS, team_figures


def _supervision(request, actor, subject, *, own: bool):
    """The page both the member of staff and their managers see: check-ins, training, what is
    due. Who may see it was decided before (the actor themself, or access.staff_member_for)."""
    return render(
        request,
        "web/wellbeing/supervision.html",
        {
            "subject": subject,
            "own": own,
            "check_ins": selectors.check_in_list(actor=actor, subject=subject),
            "training": selectors.training_list(actor=actor, subject=subject),
            "next": selectors.next_check_in(actor=actor, subject=subject),
            "record_url": reverse("web:my-check-in-new")
            if own
            else reverse("web:staff-check-in-new", args=[subject.pk]),
            "training_url": reverse("web:my-training-new")
            if own
            else reverse("web:staff-training-new", args=[subject.pk]),
        },
    )


@page(access.is_staff_member)
def my_supervision(request, actor):
    return _supervision(request, actor, actor.user, own=True)


@page(access.supervises_staff)
def staff_member(request, actor, user_id):
    subject = access.staff_member_for(actor, user_id, action="list_check_ins")
    return _supervision(request, actor, subject, own=subject.pk == actor.user.pk)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _check_in_new(request, actor, subject, *, back: str):
    form = CheckInForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data.get(name) for name in services.CHECK_IN_FIELDS}
        try:
            check_in = services.check_in_record(actor=actor, subject=subject, data=data)
        except ValidationFailed as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                "Check-in recorded. It is done once a supervisor signs it off."
                if not access.can_sign_off(actor, check_in)
                else "Check-in recorded. Read it through with them, then sign it off.",
            )
            return redirect("web:check-in", check_in.pk)
    return render(
        request,
        "web/wellbeing/check_in_form.html",
        {"form": form, "subject": subject, "own": subject.pk == actor.user.pk, "back": back},
    )


@page(access.is_staff_member)
def my_check_in_new(request, actor):
    return _check_in_new(request, actor, actor.user, back=reverse("web:my-supervision"))


@page(access.supervises_staff)
def staff_check_in_new(request, actor, user_id):
    subject = access.staff_member_for(actor, user_id, action="record_check_in")
    return _check_in_new(
        request, actor, subject, back=reverse("web:staff-member", args=[subject.pk])
    )


@page(access.is_staff_member)
def check_in(request, actor, check_in_id):
    record = selectors.check_in_detail(actor=actor, check_in_id=check_in_id)
    own = record.subject_id == actor.user.pk
    return render(
        request,
        "web/wellbeing/check_in.html",
        {
            "check_in": record,
            "own": own,
            "can_sign_off": not record.signed_off and access.can_sign_off(actor, record),
            "back": reverse("web:my-supervision")
            if own
            else reverse("web:staff-member", args=[record.subject_id]),
        },
    )


@require_POST
@page(access.is_staff_member)
def check_in_sign_off(request, actor, check_in_id):
    """A supervisor signs the check-in off; its subject is refused (403, saying who signs it)."""
    record = access.check_in_get_for(actor, check_in_id, action="sign_off_check_in")
    try:
        services.check_in_sign_off(actor=actor, check_in=record)
    except Conflict as exc:
        messages.success(request, exc.message)
    else:
        messages.success(
            request,
            f"Check-in signed off. The next one is due on {record.next_check_in_on:%-d %B %Y}.",
        )
    return redirect("web:check-in", record.pk)


def _training_new(request, actor, subject, *, back: str):
    form = TrainingRecordForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            record = services.training_record(
                actor=actor,
                subject=subject,
                data={k: form.cleaned_data.get(k) for k in form.fields},
            )
        except ValidationFailed as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Training recorded: {record.course}.")
            return redirect(back)
    return render(
        request,
        "web/wellbeing/training_form.html",
        {"form": form, "subject": subject, "own": subject.pk == actor.user.pk, "back": back},
    )


@page(access.is_staff_member)
def my_training_new(request, actor):
    return _training_new(request, actor, actor.user, back=reverse("web:my-supervision"))


@page(access.supervises_staff)
def staff_training_new(request, actor, user_id):
    subject = access.staff_member_for(actor, user_id, action="record_training")
    return _training_new(
        request, actor, subject, back=reverse("web:staff-member", args=[subject.pk])
    )


@page()
def wellbeing_report(request, actor):
    """The team's figures: counts only, under the small-number rules. Logged like any report."""
    figures = team_figures(actor=actor)
    on_time = report_pages.months_table(
        figures.on_time, len(figures.months), figures.months,
        title="Supervision check-ins due, by month of their deadline",
        column_labels=ON_TIME_COLUMNS, row_heading="Month due",
        total_label="Due", totals_row_label="All months",
    )  # fmt: skip
    rates = [
        {
            "label": row["label"],
            "text": report_pages.percent(report_pages.rate(row["cells"][0], row["total"])),
        }
        for row in on_time.rows
    ]
    overall = report_pages.percent(report_pages.rate(on_time.column_totals[0], on_time.total))
    access_record(
        actor=actor,
        action="view_report",
        accesses=[Access("report", "staff_wellbeing")],
        detail={"months": len(figures.months), "format": "html"},
    )
    return render(
        request,
        "web/wellbeing/report.html",
        {
            "figures": figures,
            "on_time": on_time,
            "rates": rates,
            "overall": overall,
            "support": list(zip(SUPPORT_COLUMNS, figures.support, strict=True)),
            "support_rate": report_pages.percent(
                report_pages.rate(figures.support[0], figures.support_total)
            ),
            "threshold": figures.threshold,
        },
    )
