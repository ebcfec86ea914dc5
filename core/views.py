from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from core.api.errors import error_body


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "Not found."), status=404)
    return render(request, "core/404.html", status=404)


def forbidden(request, exception=None):
    """Django's PermissionDenied, raised by a page's access rule, as the service's own page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(403, "You cannot do this."), status=403)
    message = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": message}, status=403)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(
                500, "Something went wrong on our side. It has been logged.", code="server_error"
            ),
            status=500,
        )
    return render(request, "core/500.html", status=500)
