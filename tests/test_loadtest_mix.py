"""The load test's mix (scripts/locustfile.py) runs against the live server: each route once, as
`make loadtest` would start it, with every request answered as expected and every write it counts
as accepted really in the database. A few seconds; the load itself is `make loadtest`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from partners.models import Role
from tests import factories

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan(live_server):
    from cases import services as case_services
    from programmes import services as programme_services
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme
    from tests.web.conftest import ui_actor

    police = factories.make_partner("police", sector="police")
    vru = factories.make_partner("vru", sector="vru")
    officer = factories.make_user(police, Role.PRACTITIONER, email="officer@police.example")
    sergeant = factories.make_user(police, Role.MANAGER, email="sergeant@police.example")
    coordinator = factories.make_user(vru, Role.COORDINATOR, email="coordinator@vru.example")
    install_standard_programmes(Programme)  # transactional tests empty the migration's rows
    divert = Programme.objects.get(slug="divert")
    divert.coordinators.set([coordinator])
    actor = ui_actor(officer)
    today = timezone.localdate()
    person = case_services.person_create(
        actor=actor,
        data={"given_name": "Tyler", "family_name": "Brooks",
              "date_of_birth": today.replace(year=today.year - 20, day=1)},
    )  # fmt: skip
    case = case_services.case_create(actor=actor, subject=person, data={"summary": "Custody"})
    enrolment = programme_services.enrolment_create(
        actor=actor, programme=divert, person=person, case=case,
        details={"cohort": "custody", "custody_suite": "Central",
                 "approached_at": (timezone.now() - timedelta(hours=1)).isoformat()},
    )  # fmt: skip
    return {
        "run": "t1",
        "base_url": live_server.url,
        "password": factories.PASSWORD,
        "token": factories.client_token(police, "read,write,sync", name="rms"),
        "people": {
            "practitioner": [{"email": officer.email}],
            "coordinator": [{"email": coordinator.email}],
            "manager": [{"email": sergeant.email}],
        },
        "cases": [str(case.pk)],
        "enrolments": [str(enrolment.pk)],
        "programmes": ["divert"],
        "surnames": ["Brooks"],
    }


def test_each_route_runs_once_against_the_live_server(plan, tmp_path):
    from cases.models import Person
    from casework.models import ChronologyEntry, Referral
    from programmes.models import Enrolment

    (tmp_path / "plan.json").write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, "scripts/locustfile.py", "--once", "--plan", str(tmp_path / "plan.json"),
         "--results", str(tmp_path / "results.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    routes = results["steps"][0]["routes"]
    assert results["problems"] == []
    assert {name: r["errors"] for name, r in routes.items() if r["errors"]} == {}
    assert set(routes) == {
        "web GET /cases/", "web GET /cases/[id]/", "web POST /cases/[id]/entries/new/",
        "web POST /referrals/new/", "web GET /programmes/[slug]/intake/",
        "web GET /enrolments/[id]/", "web POST /enrolments/[id]/ (move)", "web GET /reports/",
        "web GET /manager/caseload/", "api POST /referrals/", "api GET /changes",
        "api POST /sync/people",
    }  # fmt: skip

    # What it counts as accepted is in the database, once.
    accepted = results["accepted"]
    for marker in accepted["api_referrals"] + accepted["web_referrals"]:
        assert Referral.objects.filter(description=marker).count() == 1
    assert len(accepted["api_referrals"]) == len(accepted["web_referrals"]) == 1
    [entry] = accepted["entries"]
    assert ChronologyEntry.objects.filter(body__endswith=entry).count() == 1
    [[batch, created]] = accepted["sync_batches"]
    assert created == 500 and Person.objects.filter(family_name=batch).count() == 500
    enrolment = plan["enrolments"][0]
    assert accepted["moves"] == [[enrolment, "eligibility_checked"], [enrolment, "declined"]]
    assert Enrolment.objects.get(pk=enrolment).status == "declined"
