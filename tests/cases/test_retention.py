"""Retention dates, the retention queue, extending and disposing of a closed case: who may, what
is deleted, what is kept, and who is told (docs/information-governance.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.db import connection, models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessLog
from cases import retention, services
from cases.models import Case, CaseHistory, Person
from core.models import Change
from followups import kinds, sweeps
from followups.models import FollowUp
from partners.models import Role
from sync.models import Tombstone
from tests import factories
from tests.factories import actor
from tests.sync.test_changes_feed import ids, read_all
from tests.sync.test_webhooks import Receiver, run_deliveries

pytestmark = pytest.mark.django_db

MARKER = "ZQX-disposal-marker-7741"


def close(case, by):
    return services.case_transition(
        actor=actor(by), case=case, to="closed", closure_reason="support_completed"
    )


def make_due(case, days=1):
    """As if the retention period had run out `days` ago."""
    Case.objects.filter(pk=case.pk).update(
        retention_until=timezone.localdate() - timedelta(days=days)
    )


@pytest.fixture
def outsider_manager(outsider_partner):
    return factories.make_user(outsider_partner, Role.MANAGER, email="boss@elsewhere.example")


class TestRetentionDate:
    def test_closing_sets_it_from_the_longest_agreement_and_reopening_clears_it(
        self, sergeant, shared_case, agreement, police, school
    ):
        longer = services.agreement_create(
            name="Police and school ISA (long)",
            parties=[police, school],
            review_date=agreement.review_date,
            retention_months=120,
        )
        assert longer.retention_months == 120  # not used: the share relied on `agreement`
        agreement.retention_months = 84
        agreement.save()
        closed = close(shared_case, sergeant)
        today = timezone.localdate()
        assert closed.closed_at is not None
        assert closed.retention_until == today + relativedelta(months=84)
        history = CaseHistory.objects.filter(case=closed).order_by("version").last()
        assert history.changes["retention_until"] == [None, closed.retention_until.isoformat()]
        reopened = services.case_transition(actor=actor(sergeant), case=closed, to="open")
        assert reopened.closed_at is None and reopened.retention_until is None

    def test_without_a_share_the_partnership_default_applies(self, settings, make_case, officer):
        settings.RETENTION_DEFAULT_MONTHS = 30
        closed = close(make_case(), officer)
        assert closed.retention_until == timezone.localdate() + relativedelta(months=30)

    def test_a_share_after_closing_can_only_lengthen_it(
        self, settings, make_case, officer, school, agreement
    ):
        settings.RETENTION_DEFAULT_MONTHS = 12
        agreement.retention_months = 48
        agreement.save()
        closed = close(make_case(), officer)
        services.case_share(
            actor=actor(officer), case=closed, partner=school, lawful_basis="public_task",
            reason="Records request",
        )  # fmt: skip
        closed.refresh_from_db()
        assert closed.retention_until == timezone.localdate() + relativedelta(months=48)

    def test_the_api_shows_the_dates(self, api, officer, make_case):
        closed = close(make_case(), officer)
        body = api(officer).get(f"/api/v1/cases/{closed.pk}").json()
        assert body["retention_until"] == closed.retention_until.isoformat()
        assert body["closed_at"]


class TestDueList:
    def test_managers_see_their_own_partners_due_cases_only(
        self, api, sergeant, officer, teacher, school_manager, make_case, shared_case
    ):
        due = close(make_case(), officer)
        make_due(due)
        not_yet = close(make_case(), officer)
        still_open = make_case()
        theirs = close(make_case(by=teacher), teacher)
        make_due(theirs)
        make_due(shared_case)  # open: a retention date alone does not make it due
        response = api(sergeant).get("/api/v1/retention/due")
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["id"] for r in results] == [str(due.pk)]
        assert set(results[0]) == {
            "id", "reference", "status", "closure_reason", "closed_at", "retention_until",
            "legal_hold", "restricted",
        }  # fmt: skip
        assert results[0]["legal_hold"] is False
        school_list = api(school_manager).get("/api/v1/retention/due").json()["results"]
        assert [r["id"] for r in school_list] == [str(theirs.pk)]
        assert str(not_yet.pk) not in str(results) and str(still_open.pk) not in str(results)
        logged = AccessLog.objects.filter(action="list_retention_due", user=sergeant)
        assert list(logged.values_list("object_id", flat=True)) == [str(due.pk)]

    def test_it_is_cursor_paginated_oldest_first(self, api, sergeant, officer, make_case):
        cases = [close(make_case(), officer) for _ in range(3)]
        for days, case in zip([3, 2, 1], cases, strict=True):
            make_due(case, days)
        first = api(sergeant).get("/api/v1/retention/due", {"page_size": 2}).json()
        assert [r["id"] for r in first["results"]] == [str(c.pk) for c in cases[:2]]
        second = api(sergeant).get(first["next"]).json()
        assert [r["id"] for r in second["results"]] == [str(cases[2].pk)]
        assert second["next"] is None

    @pytest.mark.parametrize("who", ["officer", "auditor", "coordinator", "system"])
    def test_others_are_refused(self, api, request, who, police, officer, make_case):
        make_due(close(make_case(), officer))
        caller = factories.client_token(police) if who == "system" else request.getfixturevalue(who)
        response = api(caller).get("/api/v1/retention/due")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert AccessLog.objects.filter(action="list_retention_due", allowed=False).exists()


class TestExtend:
    def test_a_manager_extends_with_a_reason_and_a_later_date(
        self, api, sergeant, officer, make_case
    ):
        case = close(make_case(), officer)
        make_due(case)
        sweeps.sweep_retention_reviews()
        until = timezone.localdate() + timedelta(days=400)
        response = api(sergeant).post(
            f"/api/v1/cases/{case.pk}/retention",
            {"decision": "extend", "reason": "Civil claim expected", "until": until.isoformat()},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["retention_until"] == until.isoformat()
        case.refresh_from_db()
        assert case.retention_until == until
        last = CaseHistory.objects.filter(case=case).order_by("version").last()
        assert last.reason == "Civil claim expected" and last.changed_by == sergeant
        assert api(sergeant).get("/api/v1/retention/due").json()["results"] == []
        assert FollowUp.objects.get(kind=kinds.RETENTION_REVIEW).status == "done"
        row = AccessLog.objects.get(action="extend_retention")
        assert row.object_id == str(case.pk) and "Civil" not in str(row.detail)

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"decision": "extend", "until": "2999-01-01"}, "reason"),
            ({"decision": "extend", "reason": "Claim"}, "until"),
            ({"decision": "extend", "reason": "Claim", "until": "2001-01-01"}, "until"),
            ({"decision": "keep-forever"}, "decision"),
        ],
    )
    def test_bad_input_is_400(self, api, sergeant, officer, make_case, body, field):
        case = close(make_case(), officer)
        response = api(sergeant).post(f"/api/v1/cases/{case.pk}/retention", body, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]

    def test_an_earlier_date_is_refused_and_an_open_case_has_none(
        self, api, sergeant, officer, make_case
    ):
        case = close(make_case(), officer)
        earlier = case.retention_until - timedelta(days=1)
        response = api(sergeant).post(
            f"/api/v1/cases/{case.pk}/retention",
            {"decision": "extend", "reason": "x", "until": earlier.isoformat()},
            format="json",
        )
        assert response.status_code == 400
        live = make_case()
        response = api(sergeant).post(
            f"/api/v1/cases/{live.pk}/retention",
            {"decision": "extend", "reason": "x", "until": "2999-01-01"},
            format="json",
        )
        assert response.status_code == 409


class TestWhoMayDecide:
    def decide(self, api, who, case_id):
        return api(who).post(
            f"/api/v1/cases/{case_id}/retention", {"decision": "dispose"}, format="json"
        )

    def test_only_the_lead_partners_managers(
        self, api, officer, teacher, school_manager, outsider_manager, auditor, shared_case
    ):
        case = close(shared_case, officer)
        # Can see the case but may not decide: 403. Cannot see it: 404, as for a missing id.
        assert self.decide(api, officer, case.pk).status_code == 403
        assert self.decide(api, teacher, case.pk).status_code == 403
        assert self.decide(api, school_manager, case.pk).status_code == 403
        system = factories.client_token(case.lead_partner)
        assert self.decide(api, system, case.pk).status_code == 403
        hidden = self.decide(api, outsider_manager, case.pk)
        missing = self.decide(api, outsider_manager, "00000000-0000-0000-0000-000000000000")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        assert self.decide(api, auditor, case.pk).status_code == 404
        assert Case.objects.filter(pk=case.pk).exists()
        refused = AccessLog.objects.filter(action="retention_decision", allowed=False)
        assert refused.count() == 7

    def test_an_open_case_is_409_and_stays(self, api, sergeant, make_case):
        case = make_case()
        response = self.decide(api, sergeant, case.pk)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "case_not_closed"
        assert Case.objects.filter(pk=case.pk).exists()


def text_columns(model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def rows_holding(marker: str) -> dict[str, int]:
    """Every table's text and JSON columns, searched for the marker."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        columns = text_columns(model)
        if not columns:
            continue
        condition = Q()
        annotations = {}
        for i, name in enumerate(columns):
            annotations[f"_t{i}"] = Cast(name, TextField())
            condition |= Q(**{f"_t{i}__contains": marker})
        count = model._base_manager.annotate(**annotations).filter(condition).count()
        if count:
            found[model._meta.label] = count
    return found


@pytest.fixture
def loopback_receivers_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class TestDisposal:
    def test_everything_goes_and_everyone_who_could_see_it_is_told(
        self,
        api,
        officer,
        sergeant,
        teacher,
        outsider,
        shared_case,
        school,
        police,
        receiver,
        loopback_receivers_allowed,
    ):
        case = shared_case
        police_system = factories.client_token(police, name="police-rms")
        school_system = factories.client_token(school, name="school-mis")
        outsider_system = factories.client_token(outsider.membership.partner, name="else-hms")
        subscribed = api(police_system).post(
            "/api/v1/webhooks/",
            {"url": receiver.url, "event_types": ["case.deleted", "person.deleted"]},
            format="json",
        )
        assert subscribed.status_code == 201, subscribed.content
        receiver.secret = subscribed.json()["secret"]

        # The marker in the case, an entry, an action and a referral.
        now = timezone.now()
        services.case_update(
            actor=actor(officer), case=case, expected_version=case.version,
            data={"summary": f"Summary {MARKER}"},
        )  # fmt: skip
        officer_api, teacher_api = api(officer), api(teacher)
        entry = teacher_api.post(
            f"/api/v1/cases/{case.pk}/entries",
            {"kind": "visit", "occurred_at": now.isoformat(), "body": f"Entry {MARKER}"},
            format="json",
        )
        assert entry.status_code == 201, entry.content
        action = officer_api.post(
            f"/api/v1/cases/{case.pk}/actions",
            {
                "title": "Home visit",
                "description": f"Action {MARKER}",
                "due_date": (now + timedelta(days=3)).date().isoformat(),
            },
            format="json",
        )
        assert action.status_code == 201, action.content
        referral = teacher_api.post(
            "/api/v1/referrals/",
            {
                "subject": str(case.subject_id),
                "concerns": ["missing_episode"],
                "description": f"Referral {MARKER}",
            },
            format="json",
        )
        assert referral.status_code == 201, referral.content
        assert referral.json()["case"] == str(case.pk)
        assert set(rows_holding(MARKER)) >= {
            "cases.Case", "casework.ChronologyEntry", "casework.Action", "casework.Referral",
        }  # fmt: skip

        readers = {
            "police": api(police_system),
            "school": api(school_system),
            "outsider": api(outsider_system),
            "teacher": teacher_api,
        }
        cursors = {name: read_all(client)[1] for name, client in readers.items()}
        run_deliveries()
        receiver.received.clear()
        access_rows_before = AccessLog.objects.count()

        closed = close(Case.objects.get(pk=case.pk), officer)
        response = api(sergeant).post(
            f"/api/v1/cases/{closed.pk}/retention", {"decision": "dispose"}, format="json"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["decision"] == "dispose" and body["subject_deleted"] is True
        assert body["deleted"]["entries"] == 1 and body["deleted"]["actions"] == 1
        assert body["deleted"]["referrals"] == 1 and body["deleted"]["shares"] == 1

        # Gone for everyone, exactly as a case that never existed.
        for who in (officer, sergeant, teacher, police_system, school_system):
            assert api(who).get(f"/api/v1/cases/{case.pk}").status_code == 404
            assert api(who).get(f"/api/v1/people/{case.subject_id}").status_code == 404
        assert not Case.objects.filter(pk=case.pk).exists()
        assert not Person.objects.filter(pk=case.subject_id).exists()
        assert rows_holding(MARKER) == {}

        # Both partners (and their systems) are told; a partner that never saw it is not.
        deleted = [("case", str(case.pk), "deleted"), ("person", str(case.subject_id), "deleted")]
        for name in ("police", "school", "teacher"):
            items, _ = read_all(readers[name], cursors[name])
            assert ids(items) == deleted, name
            assert all(
                set(i) == {"cursor", "resource", "id", "action", "changed_at"} for i in items
            )
        assert read_all(readers["outsider"], cursors["outsider"])[0] == []

        # The partner system's webhook receiver gets case.deleted (and person.deleted).
        run_deliveries()
        events = sorted(e["type"] for e in receiver.received)
        assert events == ["case.deleted", "person.deleted"]
        assert {e["data"]["id"] for e in receiver.received} == {
            str(case.pk),
            str(case.subject_id),
        }

        # The access log keeps every row (ids and reasons only) and gains the disposal.
        assert AccessLog.objects.count() > access_rows_before
        assert AccessLog.objects.filter(case_id=case.pk).count() > 5
        disposal = AccessLog.objects.get(action="dispose", object_type="case")
        assert disposal.object_id == str(case.pk) and disposal.user == sergeant

    def test_the_access_log_holds_no_content(self):
        """What the access log keeps after a disposal: who, what kind of record and its id, when,
        why they could, and an allow-listed detail of ids and counts; no free-text column."""
        columns = {f.name for f in AccessLog._meta.concrete_fields}
        assert columns == {
            "id", "at", "user", "client", "partner", "role", "channel", "action", "allowed",
            "object_type", "object_id", "case_id", "person_id", "justification", "detail",
        }  # fmt: skip
        assert not any(isinstance(f, models.TextField) for f in AccessLog._meta.concrete_fields)

    def test_a_subject_another_case_concerns_is_kept_and_the_school_told_revoked(
        self, api, officer, sergeant, teacher, shared_case, make_case
    ):
        other = make_case(subject=shared_case.subject)  # police only: not shared with the school
        cursor = read_all(api(teacher))[1]
        closed = close(shared_case, officer)
        disposal = retention.case_dispose(actor=actor(sergeant), case=closed)
        assert disposal.summary.subject_kept_because == "another case concerns them"
        assert Person.objects.filter(pk=shared_case.subject_id).exists()
        assert api(officer).get(f"/api/v1/cases/{other.pk}").status_code == 200
        items, _ = read_all(api(teacher), cursor)
        assert ids(items) == [
            ("case", str(shared_case.pk), "deleted"),
            ("person", str(shared_case.subject_id), "revoked"),
        ]
        assert api(teacher).get(f"/api/v1/people/{shared_case.subject_id}").status_code == 404
        # The police still see the person through the other case: nothing about them.
        police_items = read_all(api(officer))[0]
        assert ("person", str(shared_case.subject_id), "deleted") not in ids(police_items)

    def test_a_restricted_case_is_announced_to_its_named_users_only(
        self, api, officer, sergeant, police, make_case
    ):
        case = close(make_case(), officer)
        Case.objects.filter(pk=case.pk).update(restricted=True)
        from cases import access as case_access

        case_access.grant_user(case, officer)
        system = factories.client_token(police)
        cursors = {who: read_all(api(who))[1] for who in (officer, sergeant, system)}
        retention.case_dispose(actor=actor(sergeant), case=Case.objects.get(pk=case.pk))
        assert ("case", str(case.pk), "deleted") in ids(read_all(api(officer), cursors[officer])[0])
        for who in (sergeant, system):
            items = read_all(api(who), cursors[who])[0]
            assert ("case", str(case.pk), "deleted") not in ids(items)
        assert Tombstone.objects.filter(user=officer).exists()

    def test_the_journal_prune_takes_tombstones_with_it(self, officer, sergeant, make_case):
        from sync import feed

        closed = close(make_case(), officer)
        retention.case_dispose(actor=actor(sergeant), case=closed)
        assert Tombstone.objects.exists()
        Change.objects.update(changed_at=timezone.now() - timedelta(days=400))
        Change.objects.create(resource="programme", object_id=closed.pk, action="updated")
        feed.prune()
        assert not Tombstone.objects.exists()


class TestSweep:
    def test_it_is_idempotent_and_follows_the_stored_date(
        self, officer, sergeant, make_case, settings
    ):
        due, later = close(make_case(), officer), close(make_case(), officer)
        make_due(due, days=3)
        due.refresh_from_db()
        assert sweeps.sweep_retention_reviews() == 1
        assert sweeps.sweep_retention_reviews() == 0
        [review] = FollowUp.objects.filter(kind=kinds.RETENTION_REVIEW)
        assert review.case_id == due.pk and review.assignee_partner_id == due.lead_partner_id
        assert timezone.localtime(review.due_at).date() == due.retention_until
        assert later.retention_until > timezone.localdate()
        # Reopened: the review no longer applies.
        services.case_transition(actor=actor(officer), case=due, to="open")
        sweeps.sweep_retention_reviews()
        review.refresh_from_db()
        assert review.status == "cancelled"

    def test_a_held_case_waits_for_its_hold_to_be_lifted(self, officer, sergeant, make_case):
        case = close(make_case(), officer)
        make_due(case)
        retention.legal_hold_place(actor=actor(sergeant), case=case, reason="Inquiry")
        assert sweeps.sweep_retention_reviews() == 0
        retention.legal_hold_lift(actor=actor(sergeant), case=case)
        assert sweeps.sweep_retention_reviews() == 1

    def test_its_cost_follows_what_is_due(self, officer, make_case):
        cases = [close(make_case(), officer) for _ in range(6)]
        make_due(cases[0])
        with CaptureQueriesContext(connection) as few:
            sweeps.sweep_retention_reviews()
        for case in cases[1:]:
            make_due(case)
        with CaptureQueriesContext(connection) as more:
            sweeps.sweep_retention_reviews()
        assert len(more) == len(few)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans: PostgreSQL")
    def test_its_queries_use_the_retention_index(self, officer, sergeant, make_case):
        """Many closed cases not yet due, a few due: the sweep and the due list read the partial
        retention indexes, not the cases table, nor every closed case of the partner."""
        for _ in range(3):
            make_due(close(make_case(), officer))
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_case (id, reference, subject_id, lead_partner_id, status, "
                "closure_reason, risk_level, summary, goals, what_matters, restricted, version, "
                "created_at, updated_at, closed_at, retention_until) "
                "SELECT md5(g::text)::uuid, 'B-' || g, subject_id, lead_partner_id, 'closed', "
                "'other', 'low', '', '', '', false, 1, now(), now(), now(), "
                "current_date + 1000 + g % 1000 "
                "FROM (SELECT subject_id, lead_partner_id FROM cases_case LIMIT 1) c, "
                "generate_series(1, 20000) g"
            )
            cursor.execute("ANALYZE cases_case")
        today = timezone.localdate()
        sweep = Case.objects.filter(retention_until__isnull=False, retention_until__lte=today)
        plan = sweep.explain()
        assert "case_retention_sweep" in plan and "Seq Scan on cases_case" not in plan, plan
        listed = retention.retention_due(actor(sergeant)).order_by("retention_until", "id")
        plan = listed.explain()
        assert "case_retention_due" in plan and "Seq Scan on cases_case" not in plan, plan
        assert len(listed) == 3
