"""Unknown paths under /api/ answer in the API's error shape, and pages use the service's own 404
and 403 pages, with DEBUG on as well as off (core/error_pages.py, core/views.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/nothing-here",
        "/api/v1/nothing-here",
        "/api/v2/cases/",
        "/api/v1/cases/not-a-uuid",
        "/api/v1/cases/00000000-0000-0000-0000-000000000000/nothing-here",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_are_404_in_the_error_shape(api, officer, debug, method, path):
    response = getattr(api(officer), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert response["Cache-Control"] == "no-store"


def test_without_credentials_too(client, debug):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_a_missing_record_is_still_the_same_404(api, officer, debug):
    response = api(officer).get("/api/v1/cases/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_pages_get_the_service_404_page_with_debug_on(client, officer, debug):
    client.force_login(officer)
    for path in ("/no-such-page/", "/cases/00000000-0000-0000-0000-000000000000/"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.content.decode()
        assert "Page not found" in body
        assert "govuk-template" in body
        assert "URLconf" not in body and "Django" not in body
        assert response["Cache-Control"] == "no-store"


def test_developers_can_still_ask_for_the_technical_page(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/?debug")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


def test_debug_alone_never_gives_the_technical_page_in_production(client, settings):
    settings.DEBUG = False
    assert "URLconf" not in client.get("/no-such-page/?debug").content.decode()


def test_pages_get_the_service_403_page_with_debug_on(client, officer, debug):
    client.force_login(officer)
    response = client.get("/manager/staff/")  # managers only
    assert response.status_code == 403
    body = response.content.decode()
    assert "You cannot do this" in body and "This page is not part of your role." in body
    assert "Django" not in body


def test_a_missing_slash_still_redirects_to_the_page(client, officer, debug):
    client.force_login(officer)
    response = client.get("/cases")
    assert response.status_code == 301
    assert response["Location"] == "/cases/"
