"""Benchmark: the due-follow-up sweep over 1,000,000 follow-ups of which 1,000 are due.

    DATABASE_URL=postgres://... uv run python bench/followup_sweep.py [--rows N] [--due N] [--keep]
    uv run python bench/followup_sweep.py            # SQLite in a temporary file

The sweep must cost what is due, not what is stored: it reads pending follow-ups through the
(status, due_at) index. This builds its own database (PostgreSQL: `<name>_bench_followups` on the
server of DATABASE_URL, dropped afterwards unless --keep; SQLite: a temporary file), migrates it,
bulk-inserts the rows (generate_series on PostgreSQL, executemany on SQLite), then prints the query
plan of the claim query, the sweep's wall time and its number of queries, and a second, empty sweep.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(url: str | None, keep: bool) -> tuple[str, callable]:
    """A fresh database for the run, and how to remove it."""
    if not url or url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="bench-followups-")
        path = Path(folder) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None if keep else path.unlink(missing_ok=True)

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench_followups"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url, cleanup = prepare_database(os.environ.get("DATABASE_URL"), args.keep)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["VAR_DIR"] = var_dir = tempfile.mkdtemp(prefix="bench-followups-var-")
    atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from vru.celery import app

    app.conf.broker_url = "memory://"  # the emails the sweep queues go nowhere
    try:
        run(args)
    finally:
        cleanup()


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from followups.models import FollowUp, Notification
    from followups.services import followups_deliver_due
    from partners.models import Role
    from partners.services import partner_create, user_create

    vendor = connection.vendor
    print(f"database: {vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")

    partner = partner_create(slug="bench", name="Bench partner", sector="police")
    users = [
        user_create(partner=partner, role=Role.PRACTITIONER, email=f"user{n}@bench.example")
        for n in range(50)
    ]
    user_ids = [u.pk.hex for u in users]

    started = time.perf_counter()
    insert_rows(connection, args.rows, args.due, user_ids, partner.pk.hex)
    print(
        f"inserted {args.rows:,} follow-ups ({args.due:,} due) in "
        f"{time.perf_counter() - started:.1f} s"
    )

    now = timezone.now()
    claim = FollowUp.objects.filter(status=FollowUp.Status.PENDING, due_at__lte=now)
    print("\nplan of the claim query (SELECT id ... ORDER BY due_at LIMIT 500):")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True)
        query = claim.order_by("due_at").values_list("pk", flat=True)[:500]
        plan = query.explain(analyze=True) if vendor == "postgresql" else query.explain()
    print("  " + plan.replace("\n", "\n  "))
    uses_index = "followup_due" in plan
    print(f"uses the (status, due_at) index followup_due: {'yes' if uses_index else 'NO'}")

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        delivered = followups_deliver_due(now=now)
        elapsed = time.perf_counter() - started
    print(
        f"\nsweep: {delivered:,} follow-ups delivered, {Notification.objects.count():,} "
        f"notifications, {elapsed * 1000:.0f} ms, {len(queries.captured_queries)} queries"
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        again = followups_deliver_due(now=now)
        elapsed = time.perf_counter() - started
    print(
        f"empty sweep (nothing due): {again} delivered, {elapsed * 1000:.1f} ms, "
        f"{len(queries.captured_queries)} queries"
    )
    if not uses_index and vendor == "postgresql":
        sys.exit("the sweep did not use the (status, due_at) index")


def insert_rows(connection, rows: int, due: int, user_ids: list[str], partner_id: str) -> None:
    """`rows` follow-ups: `due` pending and due now; the rest done (in the past) or pending in the
    future, the shape of a table after years of use."""
    history = rows - due
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            users = "ARRAY[" + ",".join(f"'{u}'::uuid" for u in user_ids) + "]"
            cursor.execute(
                f"""
                INSERT INTO followups_followup
                    (id, kind, due_at, status, subject_resource, subject_id, title,
                     assignee_user_id, created_at, updated_at)
                SELECT gen_random_uuid(), 'divert_check_in',
                       CASE WHEN n %% 2 = 0 THEN now() - n * interval '1 minute'
                            ELSE now() + interval '1 day' + n * interval '1 minute' END,
                       CASE WHEN n %% 2 = 0 THEN 'done' ELSE 'pending' END,
                       'enrolment', gen_random_uuid(), 'DIVERT check-in due',
                       ({users})[1 + n %% {len(user_ids)}], now(), now()
                FROM generate_series(1, %s) AS n
                """,
                [history],
            )
            cursor.execute(
                f"""
                INSERT INTO followups_followup
                    (id, kind, due_at, status, subject_resource, subject_id, title,
                     assignee_user_id, assignee_partner_id, created_at, updated_at)
                SELECT gen_random_uuid(), 'divert_check_in', now() - n * interval '1 second',
                       'pending', 'enrolment', gen_random_uuid(), 'DIVERT check-in due',
                       CASE WHEN n %% 10 = 0 THEN NULL ELSE ({users})[1 + n %% {len(user_ids)}] END,
                       CASE WHEN n %% 10 = 0 THEN '{partner_id}'::uuid ELSE NULL END,
                       now(), now()
                FROM generate_series(1, %s) AS n
                """,
                [due],
            )
            cursor.execute("ANALYZE followups_followup")
            return

        import uuid
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)

        def stored(moment: datetime) -> str:  # how Django keeps an aware datetime in SQLite
            return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

        sql = (
            "INSERT INTO followups_followup (id, kind, due_at, status, subject_resource, "
            "subject_id, title, assignee_user_id, assignee_partner_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        raw = connection.connection
        stamp = stored(now)

        def history_rows(start, stop):
            for n in range(start, stop):
                past = n % 2 == 0
                due_at = now + (timedelta(minutes=-n) if past else timedelta(days=1, minutes=n))
                yield (
                    uuid.uuid4().hex, "divert_check_in", stored(due_at),
                    "done" if past else "pending", "enrolment", uuid.uuid4().hex,
                    "DIVERT check-in due", user_ids[n % len(user_ids)], None, stamp, stamp,
                )  # fmt: skip

        raw.execute("BEGIN")  # Django's SQLite connection autocommits: one transaction, not 1M
        for start in range(1, history + 1, 100_000):
            raw.executemany(sql, history_rows(start, min(start + 100_000, history + 1)))
        raw.executemany(
            sql,
            [
                (
                    uuid.uuid4().hex,
                    "divert_check_in",
                    stored(now - timedelta(seconds=n)),
                    "pending",
                    "enrolment",
                    uuid.uuid4().hex,
                    "DIVERT check-in due",
                    None if n % 10 == 0 else user_ids[n % len(user_ids)],
                    partner_id if n % 10 == 0 else None,
                    stamp,
                    stamp,
                )
                for n in range(1, due + 1)
            ],
        )
        raw.commit()
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
