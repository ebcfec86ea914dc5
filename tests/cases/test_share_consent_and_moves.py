"""A share that relies on consent needs the person's consent recorded on the case: the latest
decision given and not expired (a later refusal or withdrawal ends it). Case moves come in workflow
order."""

from __future__ import annotations

import pytest

from cases.models import Share

pytestmark = pytest.mark.django_db


def share(client, case, basis):
    return client.post(
        f"/api/v1/cases/{case.pk}/shares",
        {"partner": "school", "lawful_basis": basis, "reason": "Joint work with the school"},
        format="json",
    )


def consent(client, case, decision):
    response = client.post(
        f"/api/v1/cases/{case.pk}/consents",
        {"person": str(case.subject_id), "decision": decision, "lawful_basis": "consent",
         "scope": "Sharing with the school"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content


def test_consent_as_the_basis_needs_a_consent_record(api, officer, make_case, agreement):
    case, client = make_case(), api(officer)
    refused = share(client, case, "consent")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"lawful_basis": ["no consent recorded"]}
    assert not Share.objects.filter(case=case).exists()
    consent(client, case, "given")
    assert share(client, case, "consent").status_code == 201


def test_a_withdrawal_ends_what_consent_allowed(api, officer, make_case, agreement):
    case, client = make_case(), api(officer)
    consent(client, case, "given")
    consent(client, case, "withdrawn")
    assert share(client, case, "consent").status_code == 400
    assert share(client, case, "public_task").status_code == 201  # another basis still serves


def test_case_moves_are_offered_in_workflow_order():
    from cases.services import moves_from

    assert moves_from("referred") == ["screening", "open", "closed"]
    assert moves_from("closed") == ["open"]
