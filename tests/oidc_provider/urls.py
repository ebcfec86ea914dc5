from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # At the root: the issuer is http://127.0.0.1:<port>, its discovery document at
    # /.well-known/openid-configuration, and authorize/, token/, userinfo/ and logout/ beside it.
    path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
