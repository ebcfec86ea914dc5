"""Sign-in pages: password (locked out by django-axes after repeated failures), then TOTP."""

from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from sso import views as sso_views


def lockout_response(request, credentials, *args, **kwargs):
    body = render_to_string(
        "partners/locked_out.html",
        {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        request=request,
    )
    return HttpResponse(body, status=429)


class LoginView(auth_views.LoginView):
    template_name = "partners/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Email first: an address at a domain with its own identity provider signs in there (and
        # never with a password here); any other address goes on to its password.
        email = request.POST.get("username", "")
        to_provider = sso_views.sign_in_at_provider(request, email, next_url=_next_url(request))
        if to_provider is not None:
            return to_provider
        if "password" not in request.POST:
            form = self.get_form_class()(request, initial={"username": email.strip()})
            return self.render_to_response(self.get_context_data(form=form, password_step=True))
        return super().post(request, *args, **kwargs)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or settings.LOGIN_REDIRECT_URL
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@login_required
def two_factor(request):
    """Verify a code from the user's confirmed device, or set one up when none is confirmed yet."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device = TOTPDevice.objects.filter(
            user=request.user, confirmed=False
        ).first() or TOTPDevice.objects.create(
            user=request.user, name="Authenticator app", confirmed=False
        )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "code", "That code did not work. Check the time on your phone and try the newest code."
        )
    context = {"form": form, "setting_up": setting_up}
    if setting_up:
        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
        buffer = BytesIO()
        image.save(buffer)
        context["qr_data_uri"] = (
            "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
        )
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "partners/two_factor.html", context)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
