"""The service's own 404 page in development too, and the API's JSON 404 under /api/ always.

With DEBUG=True Django answers a 404 with its technical page (every URL pattern, the settings)
instead of handler404: developers would never see what users see, and an API client under /api/
would get HTML. This middleware swaps Django's page for `core.views.not_found` (the GOV.UK page, or
the API's error shape under /api/). A developer who wants the technical page adds `?debug` to the
address. With DEBUG=False Django already calls handler404, and nothing here runs.

403s need nothing: Django calls handler403 whatever DEBUG is.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseNotFound


class ServiceNotFoundPageMiddleware:
    """Outside CommonMiddleware (which turns some 404s into a redirect to the address with a
    slash), inside the request id and security headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            # Django's technical page; the service's own 404 pages are plain HttpResponses.
            and type(response) is HttpResponseNotFound
            and "debug" not in request.GET
        ):
            from core.views import not_found

            return not_found(request)
        return response
