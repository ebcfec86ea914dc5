import pytest

from audit.models import AccessLog
from cases.models import Person
from tests import factories

NHS = "9434765919"


def error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.django_db
class TestCreate:
    def test_it_creates_a_person_with_identifiers_and_etag(self, api, officer):
        response = api(officer).post(
            "/api/v1/people/",
            {
                "given_name": "Jayden",
                "family_name": "Clarke",
                "preferred_name": "Jay",
                "date_of_birth": "2010-03-14",
                "pronouns": "he/him",
                "identifiers": [
                    {"scheme": "nhs", "value": "943 476 5919"},
                    {"scheme": "local", "value": "RMS-1"},
                ],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["identifiers"] == [
            {"scheme": "nhs", "value": NHS},
            {"scheme": "local", "value": "RMS-1"},
        ]
        assert body["version"] == 1
        assert response["ETag"] == '"1"'
        assert AccessLog.objects.filter(
            action="create", person_id=body["id"], user=officer
        ).exists()

    def test_an_invalid_identifier_is_a_400_naming_the_field_and_reason(self, api, officer):
        response = api(officer).post(
            "/api/v1/people/",
            {
                "given_name": "A",
                "family_name": "B",
                "identifiers": [{"scheme": "nhs", "value": "9434765918"}],
            },
            format="json",
        )
        err = error(response, 400)
        assert "check digit" in err["fields"]["identifiers.0.value"][0]
        assert not Person.objects.exists()

    def test_an_unknown_scheme_is_a_400(self, api, officer):
        response = api(officer).post(
            "/api/v1/people/",
            {
                "given_name": "A",
                "family_name": "B",
                "identifiers": [{"scheme": "passport", "value": "1"}],
            },
            format="json",
        )
        assert "identifiers.0.scheme" in error(response, 400)["fields"]

    def test_missing_names_are_a_400(self, api, officer):
        assert set(
            error(api(officer).post("/api/v1/people/", {}, format="json"), 400)["fields"]
        ) >= {
            "given_name",
            "family_name",
        }

    def test_a_national_identifier_already_held_is_a_409_that_names_nobody(
        self, api, officer, teacher, make_person
    ):
        make_person(
            by=officer,
            identifiers=[{"scheme": "nhs", "value": NHS}],
            given_name="Secret",
            family_name="Name",
        )
        response = api(teacher).post(
            "/api/v1/people/",
            {
                "given_name": "J",
                "family_name": "C",
                "identifiers": [{"scheme": "nhs", "value": NHS}],
            },
            format="json",
        )
        err = error(response, 409)
        assert "Secret" not in response.content.decode()
        assert err["code"] == "identifier_in_use"

    def test_local_ids_are_unique_per_partner_only(self, api, officer, teacher):
        for user in (officer, teacher):
            response = api(user).post(
                "/api/v1/people/",
                {
                    "given_name": "A",
                    "family_name": "B",
                    "identifiers": [{"scheme": "local", "value": "42"}],
                },
                format="json",
            )
            assert response.status_code == 201


@pytest.mark.django_db
class TestVisibility:
    def test_a_person_is_visible_to_the_creating_partner_and_through_visible_cases(
        self, api, officer, teacher, outsider, shared_case
    ):
        person_url = f"/api/v1/people/{shared_case.subject_id}"
        assert api(officer).get(person_url).status_code == 200
        assert api(teacher).get(person_url).status_code == 200  # the case is shared with the school
        assert error(api(outsider).get(person_url), 404)["message"] == "Person not found."
        assert api(outsider).get("/api/v1/people/").json()["results"] == []
        assert api(outsider).get("/api/v1/people/", {"q": "Jayden"}).json()["results"] == []

    def test_another_partners_local_ids_are_not_shown(
        self, api, officer, teacher, school, shared_case
    ):
        from cases.models import PersonIdentifier

        PersonIdentifier.objects.create(
            person=shared_case.subject,
            scheme="local",
            value="RMS-9",
            issuer=officer.membership.partner,
        )
        assert (
            api(teacher).get(f"/api/v1/people/{shared_case.subject_id}").json()["identifiers"] == []
        )

    def test_search_by_name_and_identifier(self, api, officer, make_person):
        make_person(identifiers=[{"scheme": "nhs", "value": NHS}])
        make_person(given_name="Leah", family_name="Williams")
        client = api(officer)
        assert [
            p["given_name"]
            for p in client.get("/api/v1/people/", {"q": "jayden clarke"}).json()["results"]
        ] == ["Jayden"]
        assert len(client.get("/api/v1/people/", {"q": NHS}).json()["results"]) == 1

    def test_list_uses_constant_queries_and_logs_each_person(
        self, api, officer, make_person, django_assert_max_num_queries
    ):
        for n in range(12):
            make_person(given_name=f"P{n}", identifiers=[{"scheme": "local", "value": f"L{n}"}])
        client = api(officer)
        for size in (2, 12):
            before = AccessLog.objects.filter(action="list").count()
            with django_assert_max_num_queries(9):
                body = client.get("/api/v1/people/", {"page_size": size}).json()
            assert len(body["results"]) == size
            assert AccessLog.objects.filter(action="list").count() == before + size


@pytest.mark.django_db
class TestUpdate:
    def test_patch_needs_if_match(self, api, officer, make_person):
        person = make_person()
        err = error(
            api(officer).patch(f"/api/v1/people/{person.id}", {"gender": "male"}, format="json"),
            428,
        )
        assert "If-Match" in err["message"]

    def test_a_stale_if_match_is_412_and_writes_nothing(self, api, officer, make_person):
        person = make_person()
        client = api(officer)
        assert (
            client.patch(
                f"/api/v1/people/{person.id}",
                {"pronouns": "they/them"},
                format="json",
                HTTP_IF_MATCH='"1"',
            ).status_code
            == 200
        )
        error(
            client.patch(
                f"/api/v1/people/{person.id}",
                {"pronouns": "he/him"},
                format="json",
                HTTP_IF_MATCH='"1"',
            ),
            412,
        )
        person.refresh_from_db()
        assert (person.pronouns, person.version) == ("they/them", 2)

    def test_an_outsider_cannot_patch(self, api, outsider, make_person):
        person = make_person()
        error(
            api(outsider).patch(
                f"/api/v1/people/{person.id}", {"gender": "x"}, format="json", HTTP_IF_MATCH='"1"'
            ),
            404,
        )


@pytest.mark.django_db
class TestUpsertByIdentifier:
    def test_it_creates_then_updates_with_if_match(self, api, officer):
        client = api(officer)
        url = f"/api/v1/people/by-identifier/nhs/{NHS}"
        created = client.put(url, {"given_name": "Jayden", "family_name": "Clarke"}, format="json")
        assert created.status_code == 201
        assert created.json()["identifiers"] == [{"scheme": "nhs", "value": NHS}]
        error(client.put(url, {"preferred_name": "Jay"}, format="json"), 428)
        updated = client.put(
            url, {"preferred_name": "Jay"}, format="json", HTTP_IF_MATCH=created["ETag"]
        )
        assert updated.status_code == 200
        assert updated.json()["preferred_name"] == "Jay"
        assert Person.objects.count() == 1

    def test_local_upserts_are_scoped_to_the_callers_partner(self, api, officer, teacher):
        assert (
            api(officer)
            .put(
                "/api/v1/people/by-identifier/local/X1",
                {"given_name": "A", "family_name": "B"},
                format="json",
            )
            .status_code
            == 201
        )
        assert (
            api(teacher)
            .put(
                "/api/v1/people/by-identifier/local/X1",
                {"given_name": "C", "family_name": "D"},
                format="json",
            )
            .status_code
            == 201
        )

    def test_a_malformed_if_match_is_412_and_writes_nothing(self, api, officer):
        client = api(officer)
        url = f"/api/v1/people/by-identifier/nhs/{NHS}"
        client.put(url, {"given_name": "Jayden", "family_name": "Clarke"}, format="json")
        error(
            client.put(url, {"preferred_name": "Jay"}, format="json", HTTP_IF_MATCH="latest"), 412
        )
        assert Person.objects.get().preferred_name == ""

    def test_an_invalid_identifier_is_400(self, api, officer):
        error(
            api(officer).put(
                "/api/v1/people/by-identifier/nhs/123",
                {"given_name": "A", "family_name": "B"},
                format="json",
            ),
            400,
        )

    def test_a_person_held_by_someone_invisible_is_404(self, api, officer, outsider, make_person):
        make_person(identifiers=[{"scheme": "nhs", "value": NHS}])
        error(
            api(outsider).put(
                f"/api/v1/people/by-identifier/nhs/{NHS}",
                {"given_name": "X"},
                format="json",
                HTTP_IF_MATCH='"1"',
            ),
            404,
        )


@pytest.mark.django_db
class TestMatches:
    def test_identifier_match_visible_and_fuzzy_hidden_are_counted_not_shown(
        self, api, officer, teacher, make_person, school
    ):
        make_person(by=officer, identifiers=[{"scheme": "nhs", "value": NHS}])  # police only
        mine = make_person(
            by=teacher, given_name="Jaden", family_name="Clarke"
        )  # school's own, fuzzy
        response = api(teacher).post(
            "/api/v1/people/matches",
            {
                "given_name": "Jayden",
                "family_name": "Clarke",
                "date_of_birth": "2010-03-14",
                "identifiers": [{"scheme": "nhs", "value": NHS}],
            },
            format="json",
        )
        assert response.status_code == 200
        body = response.json()
        assert [m["person"]["id"] for m in body["results"]] == [str(mine.id)]
        assert body["hidden_matches"] == 1
        assert "9434765919" not in str(body["results"])
        assert AccessLog.objects.filter(action="match", person_id=mine.id).exists()

    def test_swapped_day_and_month_still_matches(self, api, officer, make_person):
        make_person(date_of_birth="2010-03-04")
        body = (
            api(officer)
            .post(
                "/api/v1/people/matches",
                {"given_name": "Jayden", "family_name": "Clarke", "date_of_birth": "2010-04-03"},
                format="json",
            )
            .json()
        )
        assert len(body["results"]) == 1

    def test_it_needs_something_to_match_on(self, api, officer):
        error(api(officer).post("/api/v1/people/matches", {"given_name": "A"}, format="json"), 400)

    def test_an_outsider_learns_only_a_count(self, api, outsider, make_person):
        make_person(identifiers=[{"scheme": "nhs", "value": NHS}])
        body = (
            api(outsider)
            .post(
                "/api/v1/people/matches",
                {"identifiers": [{"scheme": "nhs", "value": NHS}]},
                format="json",
            )
            .json()
        )
        assert body == {"results": [], "hidden_matches": 1}


@pytest.mark.django_db
def test_api_clients_see_their_partners_people(api, police, make_person, outsider_partner):
    person = make_person()
    assert api(factories.client_token(police)).get(f"/api/v1/people/{person.id}").status_code == 200
    assert (
        api(factories.client_token(outsider_partner)).get(f"/api/v1/people/{person.id}").status_code
        == 404
    )
