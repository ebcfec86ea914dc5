import pytest


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


@pytest.mark.django_db
class TestErrorShape:
    def test_400_for_malformed_json(self, api, officer):
        client = api(officer)
        response = client.generic("GET", "/api/v1/partners/?updated_since=not-a-date")
        assert error_of(response, 400)["fields"]

    def test_400_for_unparseable_body(self, api, officer):
        response = api(officer).post(
            "/api/v1/me", data="{not json", content_type="application/json"
        )
        # POST is not allowed on /me, but the body is read first only if parsing is reached
        assert response.status_code in (400, 405)
        error_of(response, response.status_code)

    def test_401(self, api):
        assert error_of(api().get("/api/v1/partners/"), 401)["code"] == "not_authenticated"

    def test_403(self, client, db):
        from partners.models import User

        client.force_login(User.objects.create_user("nomember@example.org", "x-long-password-9"))
        assert error_of(client.get("/api/v1/partners/"), 403)["code"] == "forbidden"

    def test_404_for_unknown_api_path(self, api, officer):
        assert error_of(api(officer).get("/api/v1/no-such-thing"), 404)["code"] == "not_found"

    def test_405(self, api, officer):
        assert error_of(api(officer).delete("/api/v1/me"), 405)["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_openapi_document_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # assets are self-hosted
