from django.urls import path

from sync.api import views

urlpatterns = [
    path("changes", views.ChangesView.as_view(), name="changes"),
    path("sync/people", views.SyncPeopleView.as_view(), name="sync-people"),
    path("sync/cases", views.SyncCasesView.as_view(), name="sync-cases"),
    path("sync/referrals", views.SyncReferralsView.as_view(), name="sync-referrals"),
    path("sync/entries", views.SyncEntriesView.as_view(), name="sync-entries"),
    path("webhooks/", views.WebhooksView.as_view(), name="webhook-list"),
    path(
        "webhooks/<uuid:subscription_id>", views.WebhookDetailView.as_view(), name="webhook-detail"
    ),
]
