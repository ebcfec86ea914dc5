# Entry points; the scripts under scripts/ do the work and say how.
.PHONY: run test lint format bench loadtest screenshots

run:
	scripts/run.sh

test:
	scripts/test.sh

lint:
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

format:
	uv run --frozen ruff format .
	uv run --frozen ruff check --fix .

# Every bench/*.py in turn, each beside its own throwaway PostgreSQL and Redis (DATABASE_URL points
# at that PostgreSQL; the benchmarks generate data). Nothing to do while there are none.
bench:
	@set -e; for f in bench/*.py; do \
		[ -e "$$f" ] || { echo "bench: no bench/*.py yet"; break; }; \
		echo "== $$f"; \
		DJANGO_ENV=test uv run --frozen python scripts/with-test-services.py -- \
			sh -c 'DATABASE_URL=$$TEST_POSTGRES_URL exec uv run --frozen python "$$0"' "$$f"; \
	done

# The production shape under Locust at a fixed arrival rate, then nothing lost or doubled
# (scripts/loadtest.py says what it checks). ARGS="--duration 60", "--find-max" or "--faults".
loadtest:
	DJANGO_ENV=test uv run --frozen python scripts/with-test-services.py -- \
		sh -c 'DATABASE_URL=$$TEST_POSTGRES_URL exec uv run --frozen python scripts/loadtest.py $$0 "$$@"' $(or $(ARGS),--duration 300)

# Refresh the README screenshots in docs/screenshots/ on purpose: the browser tests, at a fixed
# clock (tests/web/conftest.py), on a throwaway SQLite database. An ordinary test run never
# rewrites them.
screenshots:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; mkdir -p "$$tmp/tmp"; \
	DJANGO_ENV=test UPDATE_SCREENSHOTS=1 DATABASE_URL=sqlite:///$$tmp/db.sqlite3 VAR_DIR=$$tmp \
		TMPDIR=$$tmp/tmp uv run --frozen pytest -q -m browser --basetemp=$$tmp/pytest tests/web
