"""Case lists for partners of every size, through the real API stack, against the same page as
one raw SQL statement and against the typical approach (a DRF list over guardian's
`get_objects_for_user` with page-number pagination).

Generates a partnership of 20 partners (each sees about 17% of the cases: leads 5%, and cases are
shared with 1-4 others), 2,000 users, BENCH_CASES persons and cases (default 100,000; the issue's
scale is 1,000,000), and five more partners that see a fixed share of all cases, spread evenly over
time: 0.02% (a mentoring charity), 1%, 10%, 25% and 60%. For a practitioner of each it times
(median of BENCH_RUNS):
  - GET /api/v1/cases/: first page, a deep page (cursor into the middle), `status=`, `q=` (a
    surname) and `updated_since=` filters, and GET /api/v1/cases/{id};
  - the same first page as raw SQL, each partner's fastest hand-written form: driven from the
    permission table when the partner sees few cases, from the cases' order when it sees many;
  - the typical DRF + guardian list, page 1 and a middle page;
and prints the queries per request.

PostgreSQL only (it generates data with generate_series). Run it on a throwaway database:
    uv run python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL BENCH_CASES=1000000 uv run python bench/case_list.py'
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

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
from django.utils import timezone  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402
from rest_framework import generics, pagination, serializers  # noqa: E402
from rest_framework.pagination import Cursor  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from cases.models import Case  # noqa: E402
from cases.services import agreement_create  # noqa: E402
from partners.models import Membership, Partner, PractitionerProfile, Sector, User  # noqa: E402
from partners.services import partner_create, personal_token_issue  # noqa: E402

PARTNERS = 20
USERS = 2000
# Partners that see a fixed share of all cases (slug, share), spread evenly over time.
SIZED = [("charity", 0.0002), ("one-pct", 0.01), ("ten-pct", 0.10), ("quarter", 0.25),
         ("sixty-pct", 0.60)]  # fmt: skip
CASES = int(os.environ.get("BENCH_CASES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
PAGE = 50


def generate() -> None:
    with connection.cursor() as cur:
        # The rows below are consistent by construction: skip the deferred foreign-key checks,
        # which would otherwise take longer at COMMIT than generating them (superuser only: the
        # throwaway cluster's).
        cur.execute("SET LOCAL session_replication_role = replica")
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
                address_line_1, address_line_2, town, postcode, uprn, created_by_partner_id, processing_restricted)
            SELECT bp.id, 1, now() - (bp.i || ' seconds')::interval, now(), 'Given' || bp.i, 'Family' || (bp.i %% 5000), '',
                date '2005-01-01' + (bp.i %% 5000), false, '', '', '', false, '', '', '', '', '', p.id, false
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
            SELECT bc.id, 1, now() - (bc.i || ' seconds')::interval,
                now() - ((bc.i::bigint * 7919 % 2592000) || ' seconds')::interval, 'VRU-B-' || lpad(bc.i::text, 8, '0'),
                bc.person_id, p.id, NULL,
                CASE WHEN bc.i % 10 = 0 THEN 'screening' WHEN bc.i % 10 < 3 THEN 'closed' ELSE 'open' END, '', 'medium', 'Bench case ' || bc.i, '', '', false, NULL
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.lead_n
            """
        )
        # Each case shared with 1-4 other partners.
        cur.execute(
            """
            CREATE TEMP TABLE bench_share AS
            SELECT bc.id AS case_id, (bc.lead_n + j * 7 + 1) %% %s AS partner_n,
                now() - (bc.i || ' seconds')::interval AS created_at
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
            INSERT INTO cases_casegroupobjectpermission (permission_id, group_id, content_object_id, expires_at, case_created_at)
            SELECT ap.id, p.group_id, bc.id, NULL::timestamptz, now() - (bc.i || ' seconds')::interval
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.lead_n
            JOIN auth_permission ap ON ap.codename IN ('view_case', 'change_case', 'share_case')
            JOIN django_content_type ct ON ct.id = ap.content_type_id AND ct.app_label = 'cases' AND ct.model = 'case'
            UNION ALL
            SELECT ap.id, p.group_id, bs.case_id, NULL::timestamptz, bs.created_at
            FROM bench_share bs JOIN bench_partner p ON p.n = bs.partner_n
            JOIN auth_permission ap ON ap.codename = 'view_case'
            JOIN django_content_type ct ON ct.id = ap.content_type_id AND ct.app_label = 'cases' AND ct.model = 'case'
            """
        )
        # The sized partners: a share, and a view permission, on every case whose hash falls in
        # their slice; one practitioner each.
        for slug, share in SIZED:
            partner = partner_create(slug=slug, name=slug.title(), sector=Sector.VOLUNTARY)
            user = User.objects.create(email=f"{slug}@bench.example", full_name=slug, password="!")
            Membership.objects.create(user=user, partner=partner, role="practitioner")
            PractitionerProfile.objects.create(user=user)
            user.groups.add(partner.group)
            cut = int(share * 1_000_003)
            cur.execute(
                """
                CREATE TEMP TABLE bench_sized AS
                SELECT bc.id AS case_id, now() - (bc.i || ' seconds')::interval AS created_at
                FROM bench_case bc WHERE (bc.i * 2654435761::bigint) %% 1000003 < %s
                """,
                [cut],
            )
            cur.execute(
                """
                INSERT INTO cases_share (id, case_id, partner_id, agreement_id, lawful_basis, reason, shared_by_id,
                    shared_by_client_id, shared_at, expires_at, revoked_at, revoked_by_id, revoke_reason)
                SELECT gen_random_uuid(), s.case_id, %s, (SELECT id FROM cases_datasharingagreement LIMIT 1),
                    'public_task', 'bench', NULL, NULL, now(), NULL, NULL, NULL, ''
                FROM bench_sized s
                """,
                [partner.pk],
            )
            cur.execute(
                """
                INSERT INTO cases_casegroupobjectpermission (permission_id, group_id, content_object_id, expires_at, case_created_at)
                SELECT ap.id, %s, s.case_id, NULL::timestamptz, s.created_at FROM bench_sized s
                JOIN auth_permission ap ON ap.codename = 'view_case'
                JOIN django_content_type ct ON ct.id = ap.content_type_id AND ct.app_label = 'cases' AND ct.model = 'case'
                """,
                [partner.group_id],
            )
            cur.execute("DROP TABLE bench_sized")
        cur.execute("ANALYZE")


CASE_COLUMNS = "c.id, c.reference, c.subject_id, c.lead_partner_id, c.status, c.risk_level, c.summary, c.version, c.created_at"
# The page walked in the cases' order, probing the permission index per case: best for a partner
# that sees many cases.
RAW_FROM_CASES = f"""
SELECT {CASE_COLUMNS}
FROM cases_case c
WHERE NOT c.restricted AND EXISTS (
    SELECT 1 FROM cases_casegroupobjectpermission g
    WHERE g.content_object_id = c.id AND g.group_id = %s AND g.permission_id = %s AND (g.expires_at IS NULL OR g.expires_at > now()))
  AND (%s::timestamptz IS NULL OR c.created_at < %s::timestamptz)
ORDER BY c.created_at DESC, c.id DESC
LIMIT %s
"""
# The page sorted out of the partner's permission rows: best for a partner that sees few.
RAW_FROM_PERMISSIONS = f"""
SELECT {CASE_COLUMNS}
FROM cases_casegroupobjectpermission g JOIN cases_case c ON c.id = g.content_object_id
WHERE g.group_id = %s AND g.permission_id = %s AND (g.expires_at IS NULL OR g.expires_at > now())
  AND NOT c.restricted AND (%s::timestamptz IS NULL OR c.created_at < %s::timestamptz)
ORDER BY c.created_at DESC, c.id DESC
LIMIT %s
"""

# The page as one range scan of the ordered access index (the case's creation time copied onto
# the permission rows): any partner size.
RAW_ORDERED = f"""
SELECT {CASE_COLUMNS}
FROM cases_casegroupobjectpermission g JOIN cases_case c ON c.id = g.content_object_id
WHERE g.group_id = %s AND g.permission_id = %s AND (g.expires_at IS NULL OR g.expires_at > now())
  AND NOT c.restricted AND (%s::timestamptz IS NULL OR g.case_created_at < %s::timestamptz)
ORDER BY g.case_created_at DESC, g.content_object_id DESC
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


def median(fn, runs=RUNS) -> float:
    return statistics.median(timed(fn, runs))


class PeerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "reference", "subject", "lead_partner", "status", "risk_level", "summary",
                  "version", "created_at", "updated_at"]  # fmt: skip


class PeerPagination(pagination.PageNumberPagination):
    page_size = PAGE


class GuardianCaseList(generics.ListAPIView):
    """The typical approach: guardian's get_objects_for_user, page-number pagination."""

    serializer_class = PeerSerializer
    pagination_class = PeerPagination
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get_queryset(self):
        return get_objects_for_user(
            self.request.user, "cases.view_case", klass=Case, accept_global_perms=False
        ).order_by("-created_at", "-id")


def guardian_page(user, page: int):
    view = GuardianCaseList.as_view()
    factory = APIRequestFactory()

    def run():
        request = factory.get(f"/peer/?page={page}")
        force_authenticate(request, user=user)
        response = view(request)
        response.render()
        assert response.status_code == 200, response.content[:200]

    return run


def raw(sql, group_id, view_id, position=None):
    def run():
        with connection.cursor() as cur:
            cur.execute(sql, [group_id, view_id, position, position, PAGE + 1])
            cur.fetchall()

    return run


def visibility_page(user, position=None):
    """The page statement the visibility rule builds (cases.access), run as SQL: the database's
    share of the request, to set against the hand-written statement."""
    from cases.access import cases_visible_to
    from partners.actor import actor_for_user

    qs = cases_visible_to(actor_for_user(user, channel="api"))
    if position is not None:
        qs = qs.filter(listed_at__lt=position)
    sql, params = qs.order_by("-listed_at", "-id")[: PAGE + 1].query.sql_with_params()

    def run():
        with connection.cursor() as cur:
            cur.execute(sql, params)
            cur.fetchall()

    return run


def queries_of(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/case_list.py needs PostgreSQL: set DATABASE_URL (see the docstring).")
    print(f"Migrating and generating {CASES:,} cases ...", flush=True)
    call_command("migrate", verbosity=0)
    if not Partner.objects.filter(slug="p00").exists():
        start = time.perf_counter()
        with transaction.atomic():
            generate()
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        print(f"  generated in {time.perf_counter() - start:.1f}s", flush=True)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        cases = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_casegroupobjectpermission")
        perms = cur.fetchone()[0]
    print(f"  {cases:,} cases, {perms:,} object permission rows")
    view_id = Permission.objects.get(codename="view_case", content_type__app_label="cases").pk
    from core.api.pagination import CursorPagination

    who = [(slug, f"{slug}@bench.example") for slug, _ in SIZED]
    who.insert(3, ("p00 (lead 5%)", "u0@bench.example"))
    header = (
        f"\n{'partner':16} {'visible':>9} {'request':28} {'API':>8} {'queries':>7} "
        f"{'query':>8} {'raw SQL':>8} {'ratio':>6} {'guardian':>9}"
    )
    print(header)
    results = []
    for label, email in who:
        user = User.objects.get(email=email)
        group_id = user.membership.partner.group_id
        _, token = personal_token_issue(user=user)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM cases_casegroupobjectpermission WHERE group_id = %s AND permission_id = %s",
                [group_id, view_id],
            )
            visible = cur.fetchone()[0]
            cur.execute(
                RAW_FROM_PERMISSIONS.replace("LIMIT %s", "OFFSET %s LIMIT 1"),
                [group_id, view_id, None, None, visible // 2],
            )
            deep_position = cur.fetchone()[-1]
        paginator = CursorPagination()
        paginator.base_url = "http://testserver/api/v1/cases/"
        deep_url = (
            paginator.encode_cursor(
                Cursor(offset=0, reverse=False, position=deep_position.isoformat())
            ).replace("http://testserver", "")
            + f"&page_size={PAGE}"
        )
        first_url = f"/api/v1/cases/?page_size={PAGE}"
        detail_id = client.get(first_url).json()["results"][0]["id"]
        surname = Case.objects.get(pk=detail_id).subject.family_name
        since = (timezone.now() - timedelta(days=1)).isoformat()

        def api_get(url, client=client):
            def run():
                response = client.get(url)
                assert response.status_code == 200, response.content[:200]

            return run

        fastest_raw, selector = {}, {}
        for position_label, position in (("first", None), ("deep", deep_position)):
            selector[position_label] = median(visibility_page(user, position), runs=10)
            fastest_raw[position_label] = min(
                median(raw(RAW_FROM_CASES, group_id, view_id, position), runs=10),
                median(raw(RAW_FROM_PERMISSIONS, group_id, view_id, position), runs=10),
                median(raw(RAW_ORDERED, group_id, view_id, position), runs=10),
            )
        rows = [
            ("first page", api_get(first_url), fastest_raw["first"], guardian_page(user, 1), selector["first"]),
            (
                "deep page",
                api_get(deep_url),
                fastest_raw["deep"],
                guardian_page(user, max(1, visible // 2 // PAGE)),
                selector["deep"],
            ),
            ("status=screening", api_get(first_url + "&status=screening"), None, None, None),
            (f"q={surname}", api_get(first_url + f"&q={surname}"), None, None, None),
            ("updated_since=1 day ago", api_get(first_url + "&updated_since=" + quote(since)), None, None, None),
            ("case detail", api_get(f"/api/v1/cases/{detail_id}"), None, None, None),
        ]  # fmt: skip
        for request_label, api_fn, raw_ms, peer_fn, selector_ms in rows:
            queries = queries_of(api_fn)
            api_ms = median(api_fn)
            peer_ms = median(peer_fn, runs=max(3, RUNS // 8)) if peer_fn else None
            results.append((label, visible, request_label, api_ms, raw_ms, peer_ms, queries))
            print(
                f"{label:16} {visible:9,} {request_label[:28]:28} {api_ms:6.1f}ms {queries:7} "
                + (f"{selector_ms:6.2f}ms " if selector_ms else f"{'':8} ")
                + (
                    f"{raw_ms:6.2f}ms {selector_ms / raw_ms:5.1f}x "
                    if raw_ms
                    else f"{'':8} {'':6} "
                )
                + (f"{peer_ms:7.1f}ms" if peer_ms else ""),
                flush=True,
            )
    if os.environ.get("BENCH_EXPLAIN"):
        from cases.access import cases_visible_to
        from partners.actor import actor_for_user

        for _, email in who:
            user = User.objects.get(email=email)
            qs = cases_visible_to(actor_for_user(user, channel="api")).order_by(
                "-listed_at", "-id"
            )[: PAGE + 1]
            print(email, qs.explain(analyze=True), sep="\n")
    _, token = personal_token_issue(user=User.objects.get(email="charity@bench.example"))
    charity = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for size in (10, 50, 200):
        count = queries_of(lambda s=size: charity.get(f"/api/v1/cases/?page_size={s}"))
        print(f"queries for page_size={size}: {count}")


if __name__ == "__main__":
    main()
