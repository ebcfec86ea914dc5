from django.urls import path

from followups.api import views

urlpatterns = [
    path("follow-ups/", views.FollowUpsView.as_view(), name="followup-list"),
    path(
        "follow-ups/<uuid:followup_id>/done", views.FollowUpDoneView.as_view(), name="followup-done"
    ),
    path("notifications/", views.NotificationsView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count",
        views.UnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all",
        views.NotificationsReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<uuid:notification_id>/read",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
