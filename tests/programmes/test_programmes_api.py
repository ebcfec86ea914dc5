"""GET /api/v1/programmes/ and /{slug}; PATCH /{slug} for its coordinators: a programme is data."""

from __future__ import annotations

import pytest

from core.models import Change
from programmes.models import Programme

pytestmark = pytest.mark.django_db

CORE_FIELDS = {"slug", "name", "capacity", "places_taken", "eligibility", "intake_schema"}


class TestRead:
    def test_it_lists_the_three_programmes_with_the_core_fields(
        self, api, officer, programmes, django_assert_max_num_queries
    ):
        client = api(officer)
        with django_assert_max_num_queries(6):
            body = client.get("/api/v1/programmes/").json()
        assert [p["slug"] for p in body["results"]] == [
            "divert",
            "invisible-walls",
            "street-and-arrow",
        ]
        assert set(body["results"][0]) >= CORE_FIELDS
        assert body["next"] is None

    def test_the_detail_carries_an_etag_and_the_configuration(
        self, api, officer, divert, coordinator, vru
    ):
        response = api(officer).get("/api/v1/programmes/divert")
        assert response.status_code == 200
        assert response["ETag"] == f'"{divert.version}"'
        body = response.json()
        assert body["owner"] == "vru"
        assert body["coordinators"] == [str(coordinator.pk)]
        assert body["eligibility"]["age"] == {"min": 18, "max": 25}
        assert body["intake_schema"]["properties"]["custody_suite"]["title"] == "Custody suite"
        assert (body["capacity"], body["places_taken"], body["places_free"]) == (40, 0, 40)
        assert {m["code"] for m in body["milestones"]} >= {"entered_employment"}

    def test_an_unknown_slug_is_a_404(self, api, officer, programmes):
        assert api(officer).get("/api/v1/programmes/unknown").status_code == 404

    def test_filters(self, api, officer, programmes):
        client = api(officer)
        Programme.objects.filter(slug="divert").update(active=False)
        assert [
            p["slug"] for p in client.get("/api/v1/programmes/?active=false").json()["results"]
        ] == ["divert"]
        assert (
            client.get("/api/v1/programmes/?updated_since=2999-01-01T00:00:00Z").json()["results"]
            == []
        )
        assert client.get("/api/v1/programmes/?updated_since=soon").status_code == 400

    def test_list_queries_do_not_grow_with_the_page(
        self,
        api,
        officer,
        programmes,
        coordinator,
        other_coordinator,
        django_assert_max_num_queries,
    ):
        for slug in ("divert", "street-and-arrow", "invisible-walls"):
            programmes[slug].coordinators.add(coordinator, other_coordinator)
        client = api(officer)
        with django_assert_max_num_queries(6):
            client.get("/api/v1/programmes/?page_size=1")
        with django_assert_max_num_queries(6):
            client.get("/api/v1/programmes/?page_size=200")


class TestChange:
    def url(self):
        return "/api/v1/programmes/divert"

    def test_a_coordinator_changes_capacity_and_rules_without_code(self, api, coordinator, divert):
        client = api(coordinator)
        etag = client.get(self.url())["ETag"]
        response = client.patch(
            self.url(),
            {"capacity": 50, "eligibility": {**divert.eligibility, "age": {"min": 18, "max": 24}}},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert response.status_code == 200, response.json()
        assert response.json()["capacity"] == 50
        assert response.json()["eligibility"]["age"]["max"] == 24
        assert response["ETag"] == f'"{divert.version + 1}"'
        assert Change.objects.filter(resource="programme", object_id=divert.pk).exists()

    def test_a_new_intake_field_is_validated_from_then_on(
        self, api, coordinator, officer, divert, case
    ):
        schema = dict(divert.intake_schema)
        schema["properties"] = {**schema["properties"], "gp_registered": {"type": "boolean"}}
        client = api(coordinator)
        etag = client.get(self.url())["ETag"]
        assert (
            client.patch(
                self.url(), {"intake_schema": schema}, format="json", HTTP_IF_MATCH=etag
            ).status_code
            == 200
        )
        response = api(officer).post(
            "/api/v1/programmes/divert/referrals",
            {
                "person": str(case.subject_id),
                "case": str(case.pk),
                "details": {"cohort": "ae", "gp_registered": "yes"},
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "details.gp_registered": ["'yes' is not of type 'boolean'"]
        }

    @pytest.mark.parametrize(
        "body, field",
        [
            (
                {"intake_schema": {"type": "object", "properties": {"x": {"type": "colour"}}}},
                "intake_schema",
            ),
            ({"intake_schema": {"type": "array"}}, "intake_schema"),
            ({"eligibility": {"age": {"min": 30, "max": 20}}}, "eligibility.age"),
            ({"eligibility": {"height": 3}}, "eligibility"),
            (
                {"followup_schedule": [{"kind": "x", "title": "X", "anchor": "enrolled"}]},
                "followup_schedule.0",
            ),
            (
                {
                    "followup_schedule": [
                        {
                            "kind": "x",
                            "title": "X",
                            "anchor": "details.coach",
                            "offset": {"days": 1},
                        }
                    ]
                },
                "followup_schedule.0.anchor",
            ),
            ({"outcomes": [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]}, "outcomes"),
            ({"capacity": -1}, "capacity"),
        ],
    )
    def test_invalid_configuration_is_a_400_naming_the_field(
        self, api, coordinator, divert, body, field
    ):
        client = api(coordinator)
        etag = client.get(self.url())["ETag"]
        response = client.patch(self.url(), body, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"], response.json()
        divert.refresh_from_db()
        assert divert.version == 1

    def test_if_match_is_required_and_checked(self, api, coordinator, divert):
        client = api(coordinator)
        assert client.patch(self.url(), {"capacity": 1}, format="json").status_code == 428
        response = client.patch(self.url(), {"capacity": 1}, format="json", HTTP_IF_MATCH='"9"')
        assert response.status_code == 412

    def test_only_its_coordinators_and_administrators_change_it(
        self, api, other_coordinator, officer, vru, divert
    ):
        from partners.models import Role
        from tests import factories

        for user in (other_coordinator, officer):
            response = api(user).patch(
                self.url(), {"capacity": 1}, format="json", HTTP_IF_MATCH='"1"'
            )
            assert response.status_code == 403
        admin = factories.make_user(vru, Role.ADMIN)
        response = api(admin).patch(self.url(), {"capacity": 1}, format="json", HTTP_IF_MATCH='"1"')
        assert response.status_code == 200

    def test_coordinators_are_replaced_by_id(self, api, coordinator, other_coordinator, divert):
        response = api(coordinator).patch(
            self.url(),
            {"coordinators": [str(coordinator.pk), str(other_coordinator.pk)]},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        assert response.status_code == 200
        assert set(response.json()["coordinators"]) == {
            str(coordinator.pk),
            str(other_coordinator.pk),
        }

    def test_an_auditor_cannot_be_a_coordinator(self, api, coordinator, auditor, divert):
        response = api(coordinator).patch(
            self.url(), {"coordinators": [str(auditor.pk)]}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 400
        assert "coordinators" in response.json()["error"]["fields"]


class TestInstalledProgrammes:
    def test_the_data_migration_installed_the_three_programmes(self, db):
        # Not re-installed by a fixture here: this is what a fresh database holds.
        slugs = set(Programme.objects.values_list("slug", flat=True))
        assert {"divert", "invisible-walls", "street-and-arrow"} <= slugs

    def test_seed_demo_is_idempotent(self, db):
        from demo.management.commands.seed_demo import Command  # noqa: F401  (loads)
        from partners.demo import seed_partners
        from programmes.demo import seed_programmes

        seed_partners()
        seed_programmes()
        seed_programmes()
        divert = Programme.objects.get(slug="divert")
        assert divert.owner.slug == "northshire-vru"
        assert list(divert.coordinators.values_list("email", flat=True)) == [
            "coordinator@vru.example"
        ]
        assert Programme.objects.filter(slug="divert").count() == 1
