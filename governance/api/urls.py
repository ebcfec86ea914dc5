from django.urls import path

from governance.api import views

urlpatterns = [
    path(
        "people/<uuid:person_id>/subject-access",
        views.SubjectAccessRequestView.as_view(),
        name="person-subject-access",
    ),
    path(
        "people/<uuid:person_id>/restriction",
        views.RestrictionView.as_view(),
        name="person-restriction",
    ),
    path(
        "subject-access/<uuid:request_id>",
        views.SubjectAccessDetailView.as_view(),
        name="subject-access-detail",
    ),
    path(
        "subject-access/<uuid:request_id>/download",
        views.SubjectAccessDownloadView.as_view(),
        name="subject-access-download",
    ),
]
