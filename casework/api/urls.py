from django.urls import path

from casework.api import views

urlpatterns = [
    path("cases/<uuid:case_id>/entries", views.CaseEntriesView.as_view(), name="case-entries"),
    path("entries/", views.EntriesView.as_view(), name="entry-list"),
    path("entries/<uuid:entry_id>", views.EntryDetailView.as_view(), name="entry-detail"),
    path(
        "entries/<uuid:entry_id>/amendments",
        views.EntryAmendmentsView.as_view(),
        name="entry-amendments",
    ),
    path(
        "cases/<uuid:case_id>/adversities",
        views.CaseAdversitiesView.as_view(),
        name="case-adversities",
    ),
    path(
        "adversities/<uuid:adversity_id>",
        views.AdversityDetailView.as_view(),
        name="adversity-detail",
    ),
    path(
        "adversities/<uuid:adversity_id>/shares",
        views.AdversitySharesView.as_view(),
        name="adversity-shares",
    ),
    path("cases/<uuid:case_id>/actions", views.CaseActionsView.as_view(), name="case-actions"),
    path("actions/", views.ActionsView.as_view(), name="action-list"),
    path("actions/<uuid:action_id>", views.ActionDetailView.as_view(), name="action-detail"),
    path("referrals/", views.ReferralsView.as_view(), name="referral-list"),
    path(
        "referrals/<uuid:referral_id>", views.ReferralDetailView.as_view(), name="referral-detail"
    ),
    path(
        "referrals/<uuid:referral_id>/screening",
        views.ReferralScreeningView.as_view(),
        name="referral-screening",
    ),
    path(
        "referrals/<uuid:referral_id>/screening/confirmations",
        views.ReferralScreeningConfirmationsView.as_view(),
        name="referral-screening-confirmations",
    ),
    path(
        "cases/<uuid:case_id>/break-glass",
        views.CaseBreakGlassView.as_view(),
        name="case-break-glass",
    ),
    path(
        "break-glass/<uuid:request_id>/decision",
        views.BreakGlassDecisionView.as_view(),
        name="break-glass-decision",
    ),
    path("vocabularies/", views.VocabularyIndexView.as_view(), name="vocabulary-list"),
    path("vocabularies/<str:name>", views.VocabularyView.as_view(), name="vocabulary-detail"),
]
