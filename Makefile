# KMU-Atlas: `make run` sets everything up and serves the app on http://127.0.0.1:5000;
# `make test` sets everything up and runs the whole test suite. Both are idempotent.
VENV := .venv
FLASK := $(VENV)/bin/flask
export FLASK_APP := app.wsgi:create_cli_app
export APP_ENV ?= development
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers for `make test` (each gets its own test database).
TEST_WORKERS ?= 2

.PHONY: run test setup setup-test setup-bench db db-stop lint format i18n bench bench-load load-test clean

run: setup db
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) serve --host $(HOST) --port $(PORT)

test: setup-test
	scripts/localdb.sh start kmu_atlas_test
	scripts/localredis.sh start
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

setup:
	scripts/setup.sh run

setup-test:
	scripts/setup.sh test

setup-bench:
	scripts/setup.sh bench

# The configured region's project-local database (kmu_atlas, or kmu_atlas_<key> for another region).
LOCAL_DB = $(shell $(VENV)/bin/python -c 'import os; from app.config import DEFAULT_REGION, local_database_name; from geodata.regions import load_region; print(local_database_name(load_region(os.environ.get("REGION") or DEFAULT_REGION).key))')

db:
	scripts/localdb.sh start $(LOCAL_DB)

db-stop:
	scripts/localdb.sh stop

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The benchmark of issue 16 (long; not part of make test): for each of BENCH_COUNTS synthetic
# employers, server load under gunicorn at concurrency 1 and 8 with and without the map cache,
# browser timings in Chromium and, at the smallest count, the naive folium page; writes
# docs/benchmarks.md. Then the name search's timings (scripts/bench_search.py, COUNT rows).
# BENCH_ARGS e.g. --reuse --requests 40; 1,000,000 (state-sized area): BENCH_COUNTS=1000000.
BENCH_COUNTS ?= 10000,100000
COUNT ?= 100000
bench: setup-bench db
	$(VENV)/bin/python scripts/bench.py --counts $(BENCH_COUNTS) $(BENCH_ARGS)
	$(VENV)/bin/python scripts/bench_search.py --count $(COUNT)

# Server load alone: gunicorn (2 workers) on loopback against kmu_atlas_bench_load_$(COUNT),
# at concurrency 1 and 8; BENCH_ARGS e.g. --reuse --map-cache --area state --output load.md.
bench-load: setup-bench db
	$(VENV)/bin/python scripts/bench_load.py --count $(COUNT) $(BENCH_ARGS)

# The bounded load test of issue 17 (about 5 minutes; not part of make test): gunicorn
# (4 workers) on loopback against kmu_atlas_bench_loadtest_$(LOAD_COUNT), 50 locust visitors for
# 2 minutes (map, list, employer pages), then 20 businesses submitting the questionnaire at
# once; fails on any failed request or a submission not stored exactly once; writes
# docs/load-test.md. LOAD_ARGS e.g. --reuse --duration 30.
LOAD_COUNT ?= 2000
load-test: setup-bench db
	$(VENV)/bin/python scripts/load_test.py --count $(LOAD_COUNT) $(LOAD_ARGS)

# After changing texts: extract them and update the English catalogue, then translate it.
i18n:
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot --add-location=file --omit-header --sort-output .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d app/translations --statistics

clean:
	-scripts/localdb.sh stop
	-scripts/localredis.sh stop
	rm -rf $(VENV) node_modules app/static/vendor instance
