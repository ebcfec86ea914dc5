from django.urls import path

from sync.api import views

urlpatterns = [
    path("changes", views.ChangesView.as_view(), name="changes"),
    path("sync/people", views.SyncPeopleView.as_view(), name="sync-people"),
    path("sync/cases", views.SyncCasesView.as_view(), name="sync-cases"),
    path("webhooks/", views.WebhooksView.as_view(), name="webhook-list"),
    path(
        "webhooks/<uuid:subscription_id>", views.WebhookDetailView.as_view(), name="webhook-detail"
    ),
]
