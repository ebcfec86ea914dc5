"""The change feed (GET /api/v1/changes) for a partner that sees 200 cases while the rest of the
partnership makes ten million changes, and for a partner that sees a quarter of the cases.

Generates BENCH_CASES cases (default 100,000) led by one large partner, a mentoring charity that
is given 200 of them, another partner that sees 25%, and BENCH_CHANGES journal rows (default
10,000,000) spread over all cases, already sequenced. For each partner it times (median of
BENCH_RUNS) a poll from a recent cursor (the last 1,000 changes), a poll from the start of the
journal, and the same page as one raw SQL statement (driven from the partner's own cases), with
the queries per request.

PostgreSQL only. Run it on a throwaway database:
    uv run python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL uv run python bench/change_feed.py'
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("API_RATE_LIMIT", "1000000/min")

import django

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from cases.services import agreement_create  # noqa: E402
from partners.models import Membership, Partner, PractitionerProfile, User  # noqa: E402
from partners.services import partner_create, personal_token_issue  # noqa: E402
from sync import feed  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", "100000"))
CHANGES = int(os.environ.get("BENCH_CHANGES", "10000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
PAGE = 50
SIZED = [("charity", 200), ("quarter", CASES // 4)]


def generate() -> None:
    with connection.cursor() as cur:
        # The rows below are consistent by construction: skip the deferred foreign-key checks,
        # which would otherwise take longer at COMMIT than generating them (superuser only: the
        # throwaway cluster's).
        cur.execute("SET LOCAL session_replication_role = replica")
    lead = partner_create(slug="lead", name="Lead", sector="police")
    partners = [lead] + [
        partner_create(slug=s, name=s.title(), sector="voluntary") for s, _ in SIZED
    ]
    agreement_create(name="Bench agreement", parties=partners, review_date="2030-01-01")
    for partner in partners:
        user = User.objects.create(email=f"{partner.slug}@bench.example", full_name=partner.slug)
        Membership.objects.create(user=user, partner=partner, role="practitioner")
        PractitionerProfile.objects.create(user=user)
        user.groups.add(partner.group)
    view = Permission.objects.get(codename="view_case", content_type__app_label="cases").pk
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_case AS SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS person_id "
            "FROM generate_series(1, %s) AS i",
            [CASES],
        )
        cur.execute(
            """
            INSERT INTO cases_person (id, version, created_at, updated_at, given_name, family_name, preferred_name,
                date_of_birth, date_of_birth_approximate, gender, pronouns, language, interpreter_needed,
                address_line_1, address_line_2, town, postcode, uprn, created_by_partner_id, processing_restricted)
            SELECT person_id, 1, now(), now(), 'Given' || i, 'Family' || i, '', NULL, false, '', '', '', false,
                '', '', '', '', '', %s, false FROM bench_case
            """,
            [lead.pk],
        )
        cur.execute(
            """
            INSERT INTO cases_case (id, version, created_at, updated_at, reference, subject_id, lead_partner_id,
                lead_practitioner_id, status, closure_reason, risk_level, summary, goals, what_matters, restricted, review_date)
            SELECT id, 1, now() - (i || ' seconds')::interval, now(), 'VRU-F-' || lpad(i::text, 8, '0'), person_id,
                %s, NULL, 'open', '', 'medium', '', '', '', false, NULL FROM bench_case
            """,
            [lead.pk],
        )
        cur.execute(
            "INSERT INTO cases_casegroupobjectpermission (permission_id, group_id, content_object_id, expires_at, case_created_at) "
            "SELECT %s, %s, id, NULL, now() - (i || ' seconds')::interval FROM bench_case",
            [view, lead.group_id],
        )
        for (_, count), partner in zip(SIZED, partners[1:], strict=True):
            step = max(1, CASES // count)
            cur.execute(
                "INSERT INTO cases_casegroupobjectpermission (permission_id, group_id, content_object_id, expires_at, case_created_at) "
                "SELECT %s, %s, id, NULL, now() - (i || ' seconds')::interval FROM bench_case WHERE i %% %s = 0 LIMIT %s",
                [view, partner.group_id, step, count],
            )
        # The journal: every change is to one of the cases, round-robin with a stride, so the
        # charity's 200 cases get their fair 0.2% and everyone else's changes fill the rest.
        cur.execute("CREATE TEMP TABLE bench_case_n AS SELECT i, id, person_id FROM bench_case")
        cur.execute("CREATE INDEX ON bench_case_n (i)")
        cur.execute(
            """
            INSERT INTO core_change (seq, resource, object_id, action, case_id, person_id, audience_partner_id, changed_at)
            SELECT g, 'case', c.id, 'updated', c.id, c.person_id, NULL, now()
            FROM generate_series(1, %s) AS g JOIN bench_case_n c ON c.i = 1 + (g::bigint * 7919) %% %s
            """,
            [CHANGES, CASES],
        )


def median(fn) -> float:
    fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


RAW = """
SELECT c.seq, c.resource, c.object_id, c.action, c.changed_at FROM core_change c
WHERE c.seq > %s AND c.case_id IN (
    SELECT g.content_object_id FROM cases_casegroupobjectpermission g WHERE g.group_id = %s AND g.permission_id = %s)
ORDER BY c.seq LIMIT %s
"""


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/change_feed.py needs PostgreSQL: set DATABASE_URL (see the docstring).")
    call_command("migrate", verbosity=0)
    if not Partner.objects.filter(slug="lead").exists():
        print(f"Generating {CASES:,} cases and {CHANGES:,} changes ...", flush=True)
        start = time.perf_counter()
        with transaction.atomic():
            generate()
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        print(f"  generated in {time.perf_counter() - start:.1f}s", flush=True)
    view = Permission.objects.get(codename="view_case", content_type__app_label="cases").pk
    with connection.cursor() as cur:
        cur.execute("SELECT max(seq) FROM core_change")
        head = cur.fetchone()[0]
    print(
        f"\n{'partner':9} {'visible':>8} {'poll from':22} {'API':>8} {'queries':>7} {'raw SQL':>8} {'ratio':>6} {'items':>6}"
    )
    for slug in ("charity", "quarter", "lead"):
        user = User.objects.get(email=f"{slug}@bench.example")
        group = user.membership.partner.group_id
        visible = user.membership.partner.group.casegroupobjectpermission_set.count()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {personal_token_issue(user=user)[1]}")
        for label, start_seq in (("the last 1,000 changes", head - 1000), ("the start", 0)):
            cursor = feed.encode_cursor(feed.Position(start_seq))
            url = f"/api/v1/changes?cursor={cursor}&page_size={PAGE}"

            def api(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, response.content[:300]
                return response

            def raw(start_seq=start_seq, group=group):
                with connection.cursor() as cur:
                    cur.execute(RAW, [start_seq, group, view, PAGE + 1])
                    cur.fetchall()

            queries = []

            def counted(run, sql, *args, queries=queries):
                queries.append(sql)
                return run(sql, *args)

            with connection.execute_wrapper(counted):
                items = len(api().json()["results"])
            api_ms, raw_ms = median(api), median(raw)
            print(
                f"{slug:9} {visible:8,} {label:22} {api_ms:6.1f}ms {len(queries):7} "
                f"{raw_ms:6.2f}ms {api_ms / raw_ms:5.1f}x {items:6}",
                flush=True,
            )


if __name__ == "__main__":
    main()
