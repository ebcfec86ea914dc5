import hmac

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def set_active(request, username: str):
    """An administrator at the provider disables a leaver, or enables them again (the test holds
    the control secret)."""
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given, settings.CONFIG["control_secret"]):
        return HttpResponseForbidden()
    active = request.POST.get("active") == "1"
    if not User.objects.filter(username=username).update(is_active=active):
        return HttpResponseNotFound()
    return HttpResponse(status=204)
