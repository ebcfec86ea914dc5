from django.contrib.auth import views as auth_views
from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/login/"), name="logout"),
    path("account/two-factor/", views.two_factor, name="two-factor"),
]
