"""Whether a signed-in session still owes its second factor. One rule for pages and the API."""

from __future__ import annotations

from django.conf import settings
from django_otp import user_has_device


def second_factor_pending(user) -> bool:
    """True until the session has passed TOTP, when TOTP is required or the user has set it up.

    A user with a confirmed device must use it on every sign-in, even where TOTP is optional:
    otherwise the password alone would open whatever does not check (the API, for one).
    """
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    if settings.OTP_REQUIRED:
        return True
    return user_has_device(user)
