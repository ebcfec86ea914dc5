from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("sso/callback/", views.callback, name="callback"),
    path(
        "sso/back-channel-logout/<slug:partner>/",
        views.back_channel_logout,
        name="back-channel-logout",
    ),
]
