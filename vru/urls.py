from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import readyz
from core.metrics import metrics_view
from partners.views import healthz

api_v1 = [
    path("", include("partners.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("casework.api.urls")),
    path("", include("programmes.api.urls")),
    path("", include("followups.api.urls")),
    path("", include("sync.api.urls")),
    path("", include("governance.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): no inline script,
    # as the Content-Security-Policy requires; the template moves its inline style to a file.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/v1/", include(api_v1)),
    path("", include("partners.urls")),
    path("", include("sso.urls")),
    path("", include("web.urls")),
]

handler403 = "core.views.forbidden"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
