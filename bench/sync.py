"""Batch sync benchmark: 50,000 people and 50,000 cases pushed through the real API stack (WSGI
handler, middleware, authentication, throttling, idempotency, views, services) in batches of 500,
then pushed again unchanged; then the change feed read end to end.

    python scripts/with-test-services.py -- bash -c \
        'DATABASE_URL=$TEST_POSTGRES_URL REDIS_URL=$TEST_REDIS_URL uv run python bench/sync.py'

Targets (PostgreSQL): >= 1,000 records/s first push, >= 3,000 records/s unchanged.
Options: --records N (default 50000), --batch N (default 500). It migrates the database it is
given and adds its own partner, so point it at a scratch database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.settings")
os.environ.setdefault("DEBUG", "false")  # no query log
os.environ.setdefault("API_RATE_LIMIT", "1000000/min")
os.environ.setdefault("SYNC_RATE_LIMIT", "1000000/min")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="Skip ANALYZE between passes. A live database's autovacuum keeps planner statistics "
        "current; a database filled from empty in seconds has none until it runs.",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from partners.services import api_client_create, partner_create

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    partner = partner_create(slug=f"bench-{run}", name=f"Bench {run}", sector="police")
    _, token = api_client_create(partner=partner, name="bench-rms", scopes="read,write,sync")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    print(
        f"database: {connection.vendor}; {args.records:,} people and cases, batches of {args.batch}"
    )

    def people(start):
        return [
            {
                "local_id": f"P-{n}",
                "given_name": f"Given{n}",
                "family_name": f"Family{n % 997}",
                "date_of_birth": f"20{n % 10:02d}-0{1 + n % 9}-{10 + n % 18}",
                "gender": "female" if n % 2 else "male",
                "postcode": f"NS{n % 90 + 10} {n % 9}AB",
                "language": "English",
            }
            for n in range(start, min(start + args.batch, args.records))
        ]

    def cases(start):
        return [
            {
                "local_id": f"C-{n}",
                "subject_local_id": f"P-{n}",
                "summary": f"Concern {n}: missing episodes",
                "risk_level": ("low", "medium", "high")[n % 3],
            }
            for n in range(start, min(start + args.batch, args.records))
        ]

    def push(resource, make, expect):
        started = time.perf_counter()
        for start in range(0, args.records, args.batch):
            response = client.post(
                f"/api/v1/sync/{resource}",
                {"records": make(start)},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"{run}-{resource}-{expect}-{start}",
            )
            assert response.status_code == 200, response.content[:500]
            summary = response.json()["summary"]
            assert summary[expect] == len(make(start)), summary
        elapsed = time.perf_counter() - started
        rate = args.records / elapsed
        print(
            f"  {resource:7} {expect:9}: {args.records:,} in {elapsed:6.1f}s = {rate:8,.0f} records/s"
        )
        return rate

    def analyze():
        if connection.vendor == "postgresql" and not args.no_analyze:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    print("first push")
    first = [push("people", people, "created")]
    analyze()
    first.append(push("cases", cases, "created"))
    analyze()
    print("unchanged re-push")
    again = [push("people", people, "unchanged"), push("cases", cases, "unchanged")]

    started, count, cursor = time.perf_counter(), 0, None
    while True:
        params = {"page_size": 1000, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/changes", params).json()
        count += len(body["results"])
        if not body["results"]:
            break
        cursor = body["next_cursor"]
    elapsed = time.perf_counter() - started
    print(f"change feed: {count:,} changes in {elapsed:.1f}s = {count / elapsed:,.0f} changes/s")

    first_rate = args.records * 2 / sum(args.records / r for r in first)
    again_rate = args.records * 2 / sum(args.records / r for r in again)
    print(
        f"overall: first push {first_rate:,.0f} records/s (target 1,000); "
        f"unchanged {again_rate:,.0f} records/s (target 3,000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
