"""Case list and detail through the real API stack versus the same page as one raw SQL statement.

Generates a partnership of 20 partners, 2,000 users, 100,000 persons and 100,000 cases, each case
shared with 1-4 other partners, then times (median, p95) for a practitioner:
  - GET /api/v1/cases/ first page, a deep page (cursor into the middle), GET /api/v1/cases/{id}
  - the same pages as one raw SQL statement
and prints the ratio (target: API within 5x of raw SQL) and the queries per request.

PostgreSQL only (it generates data with generate_series). Run it on a throwaway database:
    uv run python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL uv run python bench/case_list.py'
Sizes can be scaled down with BENCH_CASES=10000 for a quick look.
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

import django

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.pagination import Cursor  # noqa: E402

from cases.services import agreement_create  # noqa: E402
from partners.models import Membership, Partner, PractitionerProfile, Sector, User  # noqa: E402
from partners.services import partner_create, personal_token_issue  # noqa: E402

PARTNERS = 20
USERS = 2000
CASES = int(os.environ.get("BENCH_CASES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
PAGE = 50


def generate() -> None:
    sectors = Sector.values
    partners = [
        partner_create(slug=f"p{n:02d}", name=f"Partner {n}", sector=sectors[n % len(sectors)])
        for n in range(PARTNERS)
    ]
    agreement_create(name="Bench agreement", parties=partners, review_date="2030-01-01")
    users = [
        User(email=f"u{n}@bench.example", full_name=f"User {n}", password="!") for n in range(USERS)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    Membership.objects.bulk_create(
        [
            Membership(user=u, partner=partners[n % PARTNERS], role="practitioner")
            for n, u in enumerate(users)
        ],
        batch_size=1000,
    )
    PractitionerProfile.objects.bulk_create(
        [PractitionerProfile(user=u) for u in users], batch_size=1000
    )
    Through = User.groups.through
    Through.objects.bulk_create(
        [
            Through(user_id=u.pk, group_id=partners[n % PARTNERS].group_id)
            for n, u in enumerate(users)
        ],
        batch_size=2000,
    )

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_partner AS SELECT row_number() OVER (ORDER BY slug) - 1 AS n, id, group_id FROM partners_partner"
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_person AS
            SELECT i, gen_random_uuid() AS id FROM generate_series(1, %s) AS i
            """,
            [CASES],
        )
        cur.execute(
            """
            INSERT INTO cases_person (id, version, created_at, updated_at, given_name, family_name, preferred_name,
                date_of_birth, date_of_birth_approximate, gender, pronouns, language, interpreter_needed,
                address_line_1, address_line_2, town, postcode, uprn, created_by_partner_id)
            SELECT bp.id, 1, now() - (bp.i || ' seconds')::interval, now(), 'Given' || bp.i, 'Family' || (bp.i %% 5000), '',
                date '2005-01-01' + (bp.i %% 5000), false, '', '', '', false, '', '', '', '', '', p.id
            FROM bench_person bp JOIN bench_partner p ON p.n = bp.i %% %s
            """,
            [PARTNERS],
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_case AS
            SELECT bp.i, gen_random_uuid() AS id, bp.id AS person_id, (bp.i %% %s) AS lead_n FROM bench_person bp
            """,
            [PARTNERS],
        )
        cur.execute(
            """
            INSERT INTO cases_case (id, version, created_at, updated_at, reference, subject_id, lead_partner_id,
                lead_practitioner_id, status, closure_reason, risk_level, summary, goals, what_matters, restricted, review_date)
            SELECT bc.id, 1, now() - (bc.i || ' seconds')::interval, now(), 'VRU-2026-' || lpad(bc.i::text, 6, '0'),
                bc.person_id, p.id, NULL, 'open', '', 'medium', 'Bench case ' || bc.i, '', '', false, NULL
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.lead_n
            """
        )
        # Each case shared with 1-4 other partners.
        cur.execute(
            """
            CREATE TEMP TABLE bench_share AS
            SELECT bc.id AS case_id, (bc.lead_n + j * 7 + 1) %% %s AS partner_n
            FROM bench_case bc, generate_series(1, 4) AS j
            WHERE j <= 1 + (bc.i * 2654435761 %% 4)
            """,
            [PARTNERS],
        )
        cur.execute(
            """
            INSERT INTO cases_share (id, case_id, partner_id, agreement_id, lawful_basis, reason, shared_by_id,
                shared_by_client_id, shared_at, expires_at, revoked_at, revoked_by_id, revoke_reason)
            SELECT gen_random_uuid(), bs.case_id, p.id, (SELECT id FROM cases_datasharingagreement LIMIT 1),
                'public_task', 'bench', NULL, NULL, now(), NULL, NULL, NULL, ''
            FROM bench_share bs JOIN bench_partner p ON p.n = bs.partner_n
            """
        )
        cur.execute(
            """
            INSERT INTO cases_casegroupobjectpermission (permission_id, group_id, content_object_id, expires_at)
            SELECT ap.id, p.group_id, bc.id, NULL::timestamptz
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.lead_n
            JOIN auth_permission ap ON ap.codename IN ('view_case', 'change_case', 'share_case')
            JOIN django_content_type ct ON ct.id = ap.content_type_id AND ct.app_label = 'cases' AND ct.model = 'case'
            UNION ALL
            SELECT ap.id, p.group_id, bs.case_id, NULL::timestamptz
            FROM bench_share bs JOIN bench_partner p ON p.n = bs.partner_n
            JOIN auth_permission ap ON ap.codename = 'view_case'
            JOIN django_content_type ct ON ct.id = ap.content_type_id AND ct.app_label = 'cases' AND ct.model = 'case'
            """
        )
        cur.execute("ANALYZE")


RAW_PAGE = """
SELECT c.id, c.reference, c.subject_id, c.lead_partner_id, c.status, c.risk_level, c.summary, c.version, c.created_at
FROM cases_case c
WHERE NOT c.restricted AND EXISTS (
    SELECT 1 FROM cases_casegroupobjectpermission g
    WHERE g.content_object_id = c.id AND g.group_id = %s AND g.permission_id = %s AND (g.expires_at IS NULL OR g.expires_at > now()))
  AND (%s::timestamptz IS NULL OR c.created_at < %s::timestamptz)
ORDER BY c.created_at DESC, c.id DESC
LIMIT %s
"""


def timed(fn, runs=RUNS) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/case_list.py needs PostgreSQL: set DATABASE_URL (see the docstring).")
    print(f"Migrating and generating {CASES:,} cases ...", flush=True)
    call_command("migrate", verbosity=0)
    if not Partner.objects.filter(slug="p00").exists():
        start = time.perf_counter()
        with transaction.atomic():
            generate()
        print(f"  generated in {time.perf_counter() - start:.1f}s", flush=True)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        cases = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_share")
        shares = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_casegroupobjectpermission")
        perms = cur.fetchone()[0]
    print(f"  {cases:,} cases, {shares:,} shares, {perms:,} object permission rows")

    user = User.objects.get(email="u0@bench.example")
    group_id = user.membership.partner.group_id
    view_id = Permission.objects.get(codename="view_case", content_type__app_label="cases").pk
    _, token = personal_token_issue(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM cases_casegroupobjectpermission g JOIN auth_permission ap ON ap.id = g.permission_id "
            "AND ap.codename = 'view_case' WHERE g.group_id = %s",
            [group_id],
        )
        visible = cur.fetchone()[0]
        cur.execute(
            RAW_PAGE.replace("LIMIT %s", "OFFSET %s LIMIT 1"),
            [group_id, view_id, None, None, visible // 2],
        )
        deep_position = cur.fetchone()[-1]
    print(
        f"  the practitioner's partner sees {visible:,} cases; deep page starts at case #{visible // 2:,}"
    )

    from core.api.pagination import CursorPagination

    paginator = CursorPagination()
    paginator.base_url = "http://testserver/api/v1/cases/"
    deep_cursor = paginator.encode_cursor(
        Cursor(offset=0, reverse=False, position=deep_position.isoformat())
    )
    deep_url = deep_cursor.replace("http://testserver", "") + f"&page_size={PAGE}"
    first_url = f"/api/v1/cases/?page_size={PAGE}"
    detail_id = client.get(first_url).json()["results"][0]["id"]

    def api_get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.content[:200]
            return response

        return run

    def raw(position):
        def run():
            with connection.cursor() as cur:
                cur.execute(RAW_PAGE, [group_id, view_id, position, position, PAGE + 1])
                cur.fetchall()

        return run

    def raw_detail():
        with connection.cursor() as cur:
            cur.execute(
                RAW_PAGE.replace("AND (%s::timestamptz", "AND c.id = %s AND (%s::timestamptz"),
                [group_id, view_id, detail_id, None, None, 1],
            )
            cur.fetchall()

    rows = [
        ("case list, first page", api_get(first_url), raw(None)),
        ("case list, deep page", api_get(deep_url), raw(deep_position)),
        ("case detail", api_get(f"/api/v1/cases/{detail_id}"), raw_detail),
    ]
    print(
        f"\n{'':24} {'API median':>11} {'API p95':>9} {'SQL median':>11} {'SQL p95':>9} {'ratio':>6} {'queries':>8} {'API in DB':>11}"
    )
    for label, api_fn, raw_fn in rows:
        with CaptureQueriesContext(connection) as ctx:
            api_fn()
        queries = len(ctx.captured_queries)
        db_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        if os.environ.get("BENCH_QUERIES"):
            for q in ctx.captured_queries:
                print(f"    {float(q['time']) * 1000:6.1f}ms  {q['sql'][:110]}")
        api_med, api_p95 = summary(timed(api_fn))
        sql_med, sql_p95 = summary(timed(raw_fn))
        print(
            f"{label:24} {api_med:9.1f}ms {api_p95:7.1f}ms {sql_med:9.2f}ms {sql_p95:7.2f}ms "
            f"{api_med / sql_med:5.1f}x {queries:8} {db_ms:9.1f}ms"
        )
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [api_get(first_url)() for _ in range(20)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_EXPLAIN"):
        from cases.access import cases_visible_to
        from partners.actor import actor_for_user

        qs = cases_visible_to(actor_for_user(user, channel="api")).order_by("-created_at", "-id")[
            :51
        ]
        print(qs.explain(analyze=True))
    for size in (10, 50, 200):
        with CaptureQueriesContext(connection) as ctx:
            api_get(f"/api/v1/cases/?page_size={size}")()
        print(f"queries for page_size={size}: {len(ctx.captured_queries)}")


if __name__ == "__main__":
    main()
