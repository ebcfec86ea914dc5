from django.urls import path

from cases.api import views

urlpatterns = [
    path("people/", views.PeopleView.as_view(), name="person-list"),
    path("people/matches", views.PersonMatchesView.as_view(), name="person-matches"),
    path(
        "people/by-identifier/<str:scheme>/<str:value>",
        views.PersonByIdentifierView.as_view(),
        name="person-by-identifier",
    ),
    path("people/<uuid:person_id>", views.PersonDetailView.as_view(), name="person-detail"),
    path(
        "people/<uuid:person_id>/relationships",
        views.PersonRelationshipsView.as_view(),
        name="person-relationships",
    ),
    path("cases/", views.CasesView.as_view(), name="case-list"),
    path("cases/<uuid:case_id>/consents", views.CaseConsentsView.as_view(), name="case-consents"),
    path("cases/<uuid:case_id>/history", views.CaseHistoryView.as_view(), name="case-history"),
    path("cases/<uuid:case_id>", views.CaseDetailView.as_view(), name="case-detail"),
    path(
        "cases/<uuid:case_id>/transitions",
        views.CaseTransitionView.as_view(),
        name="case-transitions",
    ),
    path("cases/<uuid:case_id>/shares", views.CaseSharesView.as_view(), name="case-shares"),
    path(
        "cases/<uuid:case_id>/shares/<slug:partner_slug>",
        views.CaseShareDetailView.as_view(),
        name="case-share",
    ),
    path(
        "cases/<uuid:case_id>/access-log", views.CaseAccessLogView.as_view(), name="case-access-log"
    ),
    path(
        "cases/<uuid:case_id>/retention", views.CaseRetentionView.as_view(), name="case-retention"
    ),
    path(
        "cases/<uuid:case_id>/legal-hold",
        views.CaseLegalHoldView.as_view(),
        name="case-legal-hold",
    ),
    path("retention/due", views.RetentionDueView.as_view(), name="retention-due"),
    path("agreements/", views.AgreementsView.as_view(), name="agreement-list"),
]
