"""Follow-ups and notifications for the signed-in person."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import Conflict
from followups import kinds, selectors, services
from followups.models import FollowUp
from web import worklists
from web.pages import page
from web.templatetags.govuk import app_link

OPEN = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)


@page()
def followup_list(request, actor):
    followups = list(
        selectors.followups_visible_to(actor)
        .filter(status__in=OPEN)
        .select_related("assignee_user")
        .order_by("due_at")[:200]
    )
    worklists.name_followup_subjects(actor, followups)  # the person and enrolment, if visible
    for f in followups:
        _record_link(actor, f)
    notifications = list(selectors.notifications_for(actor.user)[:50])
    return render(
        request,
        "web/followups.html",
        {"followups": followups, "notifications": notifications, "now": timezone.now()},
    )


def _record_link(actor, followup) -> None:
    """A check-in or a refresher is done by recording it (followups.kinds.RECORD_KINDS): the
    follow-up links to the form, one's own or, for a manager, their member of staff's."""
    if followup.kind not in kinds.RECORD_KINDS or followup.assignee_user_id is None:
        return
    mine = followup.assignee_user_id == actor.user.pk if actor.user else False
    if followup.kind == kinds.SUPERVISION_CHECK_IN:
        followup.record_text = "Record the check-in"
        name, staff_name = "web:my-check-in-new", "web:staff-check-in-new"
    else:
        followup.record_text = "Record the training"
        name, staff_name = "web:my-training-new", "web:staff-training-new"
    followup.record_url = (
        reverse(name) if mine else reverse(staff_name, args=[followup.assignee_user_id])
    )


@require_POST
@page()
def followup_done(request, actor, followup_id):
    followup = selectors.followups_visible_to(actor).filter(pk=followup_id).first()
    if followup is None:
        raise Http404
    try:
        services.followup_complete(actor=actor, followup=followup)
    except Conflict as exc:
        messages.success(request, exc.message)
    else:
        messages.success(request, "Marked as done.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("web:followups")


@require_POST
@page()
def notification_read(request, actor, notification_id):
    notification = selectors.notifications_for(actor.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    services.notification_mark_read(user=actor.user, notification=notification)
    target = app_link(notification.link)
    if target:
        return redirect(target)
    return redirect("web:followups")
