"""Session rules: an idle timeout, an absolute lifetime, and two-factor before anything else."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

from partners.twofactor import second_factor_pending

_STARTED = "vru_session_started"
_SEEN = "vru_session_seen"
# Pages an unverified (password-only) user may reach while finishing two-factor.
_TWO_FACTOR_OPEN = ("/login/", "/logout/", "/account/two-factor/", "/static/", "/healthz", "/api/")
# Asked by open tabs before they warn or sign out (web.views.home.session_status): asking how long
# is left must not itself count as activity, or an idle tab would keep the session alive.
NOT_ACTIVITY = ("/session/status/",)


def idle_seconds_left(request) -> int:
    """How long the signed-in session has before the idle timeout signs it out (0 when it has,
    or when its absolute lifetime is over)."""
    if not request.user.is_authenticated:
        return 0
    now = int(time.time())
    started = request.session.get(_STARTED, now)
    if now - started > settings.SESSION_ABSOLUTE_LIFETIME:
        return 0
    seen = request.session.get(_SEEN, now)
    return max(0, settings.SESSION_IDLE_TIMEOUT - (now - seen))


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.path in NOT_ACTIVITY:
            # Only reads the session: it neither extends it nor ends it (ending it here would race
            # the sign-out another tab is making at the same moment).
            return self.get_response(request)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.setdefault(_STARTED, now)
            seen = request.session.get(_SEEN, now)
            expired = (now - seen > settings.SESSION_IDLE_TIMEOUT) or (
                now - started > settings.SESSION_ABSOLUTE_LIFETIME
            )
            if expired:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{settings.LOGIN_URL}?timeout=1&next={request.path}")
            # Writing the session on every request costs a query; once a minute is precise enough
            # (more often when the idle timeout itself is short).
            precision = min(60, settings.SESSION_IDLE_TIMEOUT // 10)
            if now - seen >= precision or _SEEN not in request.session:
                request.session[_SEEN] = now
            # The API is open here because it answers for itself: a session that owes its second
            # factor is not authenticated there (partners.authentication), so it gets 401.
            if not request.path.startswith(_TWO_FACTOR_OPEN) and second_factor_pending(user):
                return redirect("partners:two-factor")
        return self.get_response(request)
