"""What every page does first: a signed-in user, their actor, their role; domain errors as pages.

NotFound becomes the ordinary 404 page (a record that does not exist and one the user may not see
look the same); Forbidden becomes a 403 page that says what the user's role cannot do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from core.errors import DomainError, Forbidden, NotFound
from partners.actor import Actor, request_actor


def page(*rules: Callable[[Actor], bool]):
    """A page for signed-in staff. `rules` are access predicates from the domain apps' access
    modules (e.g. cases.access.writes_case_content): the page is for actors that pass them all
    (others get 403). Pages never decide a right themselves; the services they call check again."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            actor = request_actor(request)
            if actor is None:
                return render(request, "web/no_membership.html", status=403)
            if not all(rule(actor) for rule in rules):
                raise PermissionDenied("This page is not part of your role.")
            try:
                return view(request, actor, *args, **kwargs)
            except NotFound:
                raise Http404 from None
            except Forbidden as exc:
                return render(request, "403.html", {"exception": exc.message}, status=403)

        return wrapper

    return decorate


def form_error(form, exc: DomainError, fields: dict[str, str] | None = None) -> None:
    """Put a service's validation message against the form field it is about."""
    fields = fields or {}
    placed = False
    for key, messages in (exc.fields or {}).items():
        target = fields.get(key) or fields.get(key.split(".")[0]) or key
        if target in form.fields:
            form.add_error(target, _readable(exc, messages))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _readable(exc: DomainError, messages) -> str:
    """A field's own message when it is a sentence; otherwise the error's message.

    Services put terse codes against fields for API clients ("required", "in the past") and a
    sentence in the message; validators (identifiers, intake schemas) put the sentence on the field.
    """
    texts = [str(m) for m in messages] if isinstance(messages, list | tuple) else [str(messages)]
    if all(" " in t and t[:1].isupper() for t in texts):
        return " ".join(texts)
    return exc.message
