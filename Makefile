# Entry points; the scripts under scripts/ do the work and say how.
.PHONY: run test lint format bench

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

# Every bench/*.py in turn; nothing to do while there are none.
bench:
	@set -e; for f in bench/*.py; do \
		[ -e "$$f" ] || { echo "bench: no bench/*.py yet"; break; }; \
		echo "== $$f"; uv run --frozen python "$$f"; \
	done
