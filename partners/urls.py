from django.urls import path

from partners import views
from sso import views as sso_views

app_name = "partners"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    # Signs out at the identity provider too when one signed the session in.
    path("logout/", sso_views.SignOutView.as_view(next_page="/login/"), name="logout"),
    path("account/two-factor/", views.two_factor, name="two-factor"),
]
