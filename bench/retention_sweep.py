"""Benchmark: the retention-review sweep (followups.sweeps.sweep_retention_reviews, the daily
"Retention reviews" task) over BENCH_CASES cases (default 1,000,000) with 0, 100, 1,000 and
10,000 of them due for review.

    DATABASE_URL=postgres://... uv run python bench/retention_sweep.py [--keep]
    uv run python scripts/with-test-services.py -- bash -c 'DATABASE_URL=$TEST_POSTGRES_URL uv run python bench/retention_sweep.py'

The sweep must cost what is due, not what is held: it reads closed cases whose retention date has
come through the partial index on the retention date (case_retention_sweep), and skips those
already given a review through the follow-ups' unique key. This builds its own database
(`<name>_bench_retention` on the server of DATABASE_URL, dropped afterwards unless --keep),
migrates it, generates the cases with generate_series (a third of them closed, their retention
dates spread over the next ten years, none due; 1% of the due ones under a legal hold), then for
each number of due cases: makes that many due, runs the sweep (timed, queries counted), runs it
again (nothing new to do: at once, and after ANALYZE of the follow-ups, as autovacuum would), and
clears the reviews it made before the next level. Prints the plan
of the sweep's read and a table. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = int(os.environ.get("BENCH_CASES", "1000000"))
LEVELS = (0, 100, 1_000, 10_000)
PARTNERS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("PostgreSQL only (generate_series): set DATABASE_URL to a throwaway server")

    url, cleanup = _own_database(url, args.keep)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["VAR_DIR"] = var_dir = tempfile.mkdtemp(prefix="bench-retention-var-")
    atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    try:
        run()
    finally:
        cleanup()


def _own_database(url: str, keep: bool):
    """A fresh `<name>_bench_retention` database, and how to drop it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench_retention"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        if not keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def run() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cases.models import Case
    from followups import kinds
    from followups.models import FollowUp
    from followups.sweeps import sweep_retention_reviews

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    generate()
    print(f"generated {CASES:,} cases in {time.perf_counter() - started:.1f} s")

    today = timezone.localdate()
    rows = []
    made_due = 0
    for level in LEVELS:
        with connection.cursor() as cur:
            # The next cases (in a fixed order) come due: their retention date was yesterday.
            cur.execute(
                """
                UPDATE cases_case SET retention_until = %s
                WHERE id IN (SELECT id FROM bench_due ORDER BY n OFFSET %s LIMIT %s)
                """,
                [today - timedelta(days=1), made_due, level - made_due],
            )
            cur.execute("ANALYZE cases_case")
        made_due = level
        due = Case.objects.filter(retention_until__lte=today).count()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            created = sweep_retention_reviews()
            first = time.perf_counter() - started
        first_queries = len(queries.captured_queries)
        # Again at once, with the planner's statistics from before the reviews were created...
        started = time.perf_counter()
        again = sweep_retention_reviews()
        stale = time.perf_counter() - started
        # ...and once autovacuum has analysed the follow-ups (as it does after such an insert).
        with connection.cursor() as cur:
            cur.execute("ANALYZE followups_followup")
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            again += sweep_retention_reviews()
            second = time.perf_counter() - started
        rows.append(
            (due, created, first * 1000, first_queries, again, stale * 1000, second * 1000,
             len(queries.captured_queries))
        )  # fmt: skip
        if level == LEVELS[-1]:
            plan = _plan(connection, today)
        # The next level starts with no reviews given, as on the day those cases came due.
        FollowUp.objects.filter(kind=kinds.RETENTION_REVIEW).delete()

    print("\nplan of the sweep's read at the largest level:")
    print("  " + plan.replace("\n", "\n  "))
    print(f"\nretention-review sweep over {CASES:,} cases (1% of due cases under a legal hold):\n")
    print(
        "| cases due | reviews created | sweep | queries | again: created | again, stale "
        "statistics | again, analysed | queries |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for due, created, first, fq, again, stale, second, sq in rows:
        print(
            f"| {due:,} | {created:,} | {first:,.0f} ms | {fq} | {again} | {stale:,.0f} ms | "
            f"{second:,.0f} ms | {sq} |"
        )
    if "case_retention_sweep" not in plan:
        sys.exit("the sweep did not read the retention-date index")


def _plan(connection, today) -> str:
    from django.db.models import Exists, OuterRef

    from cases.models import Case, LegalHold
    from followups import kinds
    from followups.models import FollowUp

    held = LegalHold.objects.filter(case_id=OuterRef("pk"), lifted_at__isnull=True)
    reviewed = FollowUp.objects.filter(
        kind=kinds.RETENTION_REVIEW, subject_resource="case", subject_id=OuterRef("pk")
    )
    query = (
        Case.objects.filter(retention_until__isnull=False, retention_until__lte=today)
        .exclude(Exists(held))
        .exclude(Exists(reviewed.filter(due_at__gte=OuterRef("retention_until"))))
        .values_list("pk", "retention_until", "lead_partner_id")
    )
    return query.explain(analyze=True)


def generate() -> None:
    """Partners, a person and a case each; a third closed with a retention date in the next ten
    years (none due); `bench_due` lists, in a fixed order, the closed cases that will come due."""
    from django.db import connection, transaction

    from partners.models import Role
    from partners.services import partner_create, user_create

    partners = [
        partner_create(slug=f"p{n:02d}", name=f"Partner {n}", sector="police")
        for n in range(PARTNERS)
    ]
    manager = user_create(partner=partners[0], role=Role.MANAGER, email="m@bench.example")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            "CREATE TEMP TABLE bench_partner AS SELECT row_number() OVER (ORDER BY slug) - 1 AS n, "
            "id FROM partners_partner"
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_case AS
            SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS person_id
            FROM generate_series(1, %s) AS i
            """,
            [CASES],
        )
        cur.execute(
            """
            INSERT INTO cases_person (id, version, created_at, updated_at, given_name, family_name,
                preferred_name, date_of_birth, date_of_birth_approximate, gender, pronouns, language,
                interpreter_needed, address_line_1, address_line_2, town, postcode, uprn,
                created_by_partner_id, processing_restricted)
            SELECT bc.person_id, 1, now(), now(), 'Given' || bc.i, 'Family' || (bc.i %% 5000), '',
                date '2005-01-01' + (bc.i %% 5000), false, '', '', '', false, '', '', '', '', '',
                p.id, false
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.i %% %s
            """,
            [PARTNERS],
        )
        cur.execute(
            """
            INSERT INTO cases_case (id, version, created_at, updated_at, reference, subject_id,
                lead_partner_id, lead_practitioner_id, status, closure_reason, risk_level, summary,
                goals, what_matters, restricted, review_date, closed_at, retention_until)
            SELECT bc.id, 1, now() - interval '8 years', now(), 'VRU-R-' || lpad(bc.i::text, 8, '0'),
                bc.person_id, p.id, NULL,
                CASE WHEN bc.i %% 3 = 0 THEN 'closed' ELSE 'open' END, '', 'medium',
                'Bench case ' || bc.i, '', '', false, NULL,
                CASE WHEN bc.i %% 3 = 0 THEN now() - interval '1 year' END,
                CASE WHEN bc.i %% 3 = 0 THEN current_date + 1 + (bc.i %% 3650) END
            FROM bench_case bc JOIN bench_partner p ON p.n = bc.i %% %s
            """,
            [PARTNERS],
        )
        # The cases that will come due, spread over the table; 1% of them under a legal hold.
        cur.execute(
            """
            CREATE TEMP TABLE bench_due AS
            SELECT row_number() OVER (ORDER BY bc.i) AS n, bc.id FROM bench_case bc
            WHERE bc.i %% 3 = 0 AND bc.i %% 7 = 0 LIMIT %s
            """,
            [max(LEVELS)],
        )
        cur.execute(
            """
            INSERT INTO cases_legalhold (id, case_id, reason, placed_by_id, placed_by_partner_id,
                placed_at, lifted_at, lifted_by_id)
            SELECT gen_random_uuid(), d.id, 'Bench hold', %s, %s, now(), NULL, NULL
            FROM bench_due d WHERE d.n %% 100 = 0
            """,
            [manager.pk, partners[0].pk],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


if __name__ == "__main__":
    main()
