import pytest

from tests import factories


@pytest.mark.django_db
class TestMe:
    def test_it_describes_a_user(self, api, officer, police):
        body = api(officer).get("/api/v1/me").json()
        assert body == {
            "id": str(officer.id),
            "kind": "user",
            "email": "officer@police.example",
            "name": officer.full_name,
            "partner": {"slug": "police", "name": "Northshire Police", "sector": "police"},
            "role": "practitioner",
            "scopes": ["read", "write", "sync"],
        }

    def test_it_describes_an_api_client(self, api, school):
        token = factories.client_token(school, scopes="read,sync", name="School MIS")
        body = api(token).get("/api/v1/me").json()
        assert body["kind"] == "client"
        assert body["name"] == "School MIS"
        assert body["partner"]["slug"] == "school"
        assert body["role"] is None
        assert body["scopes"] == ["read", "sync"]
        assert "email" not in body

    def test_it_works_with_a_browser_session(self, client, officer):
        client.force_login(officer)
        assert client.get("/api/v1/me").json()["email"] == "officer@police.example"

    def test_a_user_with_no_membership_is_refused(self, client, db):
        from partners.models import User

        user = User.objects.create_user("lonely@example.org", "a-long-password-1")
        client.force_login(user)
        response = client.get("/api/v1/me")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.django_db
class TestPartners:
    def test_it_lists_active_partners(
        self, api, officer, school, outsider_partner, django_assert_max_num_queries
    ):
        outsider_partner.active = False
        outsider_partner.save()
        client = api(officer)
        with django_assert_max_num_queries(6):
            body = client.get("/api/v1/partners/").json()
        assert [p["slug"] for p in body["results"]] == ["school", "police"]
        assert set(body["results"][0]) == {"id", "slug", "name", "sector"}
        assert body["next"] is None

    def test_it_pages_with_a_cursor(self, api, officer, django_assert_max_num_queries):
        for _ in range(5):
            factories.make_partner()
        client = api(officer)
        seen = []
        url = "/api/v1/partners/?page_size=2"
        while url:
            with django_assert_max_num_queries(6):
                body = client.get(url).json()
            assert len(body["results"]) <= 2
            seen += [p["slug"] for p in body["results"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) == 6

    def test_it_filters_by_sector_and_updated_since(self, api, officer, school):
        client = api(officer)
        assert [
            p["slug"] for p in client.get("/api/v1/partners/?sector=education").json()["results"]
        ] == ["school"]
        assert (
            client.get("/api/v1/partners/?updated_since=2999-01-01T00:00:00Z").json()["results"]
            == []
        )

    def test_a_bad_filter_is_a_400_naming_the_field(self, api, officer):
        response = api(officer).get("/api/v1/partners/?updated_since=yesterday")
        assert response.status_code == 400
        assert "updated_since" in response.json()["error"]["fields"]
