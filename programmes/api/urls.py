from django.urls import path

from programmes.api import views

urlpatterns = [
    path("programmes/", views.ProgrammesView.as_view(), name="programme-list"),
    path("programmes/<slug:slug>", views.ProgrammeDetailView.as_view(), name="programme-detail"),
    path(
        "programmes/<slug:slug>/referrals",
        views.ProgrammeReferralsView.as_view(),
        name="programme-referrals",
    ),
    path(
        "programmes/<slug:slug>/intake",
        views.ProgrammeIntakeView.as_view(),
        name="programme-intake",
    ),
    path(
        "programmes/<slug:slug>/offer-next",
        views.ProgrammeOfferNextView.as_view(),
        name="programme-offer-next",
    ),
    path("enrolments/", views.EnrolmentsView.as_view(), name="enrolment-list"),
    path(
        "enrolments/<uuid:enrolment_id>",
        views.EnrolmentDetailView.as_view(),
        name="enrolment-detail",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/transitions",
        views.EnrolmentTransitionsView.as_view(),
        name="enrolment-transitions",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/sessions",
        views.EnrolmentSessionsView.as_view(),
        name="enrolment-sessions",
    ),
    path(
        "enrolments/<uuid:enrolment_id>/milestones",
        views.EnrolmentMilestonesView.as_view(),
        name="enrolment-milestones",
    ),
]
