from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # The provider's own administration, for the tests: disable a person here (a leaver).
    path("directory/<str:username>/active", views.set_active),
    # At the root: the issuer is http://127.0.0.1:<port>, its discovery document at
    # /.well-known/openid-configuration, and authorize/, token/, userinfo/ and logout/ beside it.
    path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
