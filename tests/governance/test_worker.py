"""The pack built by a real Celery worker (tests/realparts.py), from the task sent twice, as a
broker redelivering it would: one pack, ready, downloadable by the requester's manager."""

from __future__ import annotations

from governance import services
from governance.models import SubjectAccessRequest
from tests.factories import actor
from tests.governance.conftest import pack_files
from tests.realparts import REAL_PARTS, wait_for

pytestmark = REAL_PARTS


def test_a_worker_builds_the_pack_once_whatever_the_deliveries(
    api, sergeant, police_case, stack, settings
):
    request = services.subject_access_request(actor=actor(sergeant), person=police_case.subject)
    worker = stack.worker("w1", SUBJECT_ACCESS_DIR=str(settings.SUBJECT_ACCESS_DIR))
    for _ in range(2):
        stack.send(services.GENERATE_TASK, request_id=str(request.pk))

    def ready() -> bool:
        return SubjectAccessRequest.objects.get(pk=request.pk).status == "ready"

    wait_for(ready, what="the pack ready", workers=[worker])
    wait_for(
        lambda: worker.log().count(services.GENERATE_TASK) >= 2,
        what="both deliveries handled",
        workers=[worker],
    )
    done = SubjectAccessRequest.objects.get(pk=request.pk)
    assert (done.progress, done.pack_name) == (100, f"{request.pk}.zip")
    _, data = pack_files(api(sergeant).get(f"/api/v1/subject-access/{request.pk}/download"))
    assert [c["reference"] for c in data["cases"]] == [police_case.reference]
    assert list(settings.SUBJECT_ACCESS_DIR.iterdir()) == [
        settings.SUBJECT_ACCESS_DIR / done.pack_name
    ]
