"""The API's default permission (REST_FRAMEWORK in vru/settings.py): an actor, with the scope."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from partners.actor import request_actor


class HasActor(BasePermission):
    """Authenticated as a user with an active membership, or as an active API client.

    Scope rules: safe methods need `read`; writes need `write`, or `sync` on sync endpoints
    (a view may set `required_scope`).
    """

    message = "You need to sign in, with an account that belongs to an active partner."

    def has_permission(self, request, view) -> bool:
        actor = request_actor(request)
        if actor is None:
            return False
        required = getattr(view, "required_scope", None)
        if required is None:
            required = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
        if required not in actor.scopes:
            self.message = f"This token does not have the '{required}' scope."
            return False
        return True
