"""Running a service's access check before its transaction."""

from __future__ import annotations

import functools

from django.db import transaction


def guarded(check):
    """The service runs in one transaction; its access check runs before, outside it, so that a
    refusal stays in the access log when the refusal's exception rolls the transaction back.

    `check` receives the service's keyword arguments and raises (after logging) to refuse."""

    def wrap(service):
        atomic = transaction.atomic(service)

        @functools.wraps(service)
        def run(**kwargs):
            check(**kwargs)
            return atomic(**kwargs)

        return run

    return wrap
