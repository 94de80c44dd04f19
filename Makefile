# Short aliases. `make run` and `make test` are the README's two set-up commands.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_PASSWORD ?= demo-pass-2026
PORT ?= 8000
PYTEST_ARGS ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run port-free reset-demo test e2e schemathesis bench loadtest lint fmt check-deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.run-installed $@

run: port-free $(VENV)/.run-installed
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_default_flows
	DEBUG=1 $(BIN)/python manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo "ResolutionFlow: open http://127.0.0.1:$(PORT)/ and log in with a login above."
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Fails early, before installing or migrating, when something already listens on PORT.
port-free:
	@$(PYTHON) -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$(PORT)" 2>/dev/null \
		|| { echo "Port $(PORT) is busy — run \`make run PORT=$$(($(PORT) + 1))\`" >&2; exit 1; }

# Start again from the default flows and demo logins (the embedded SQLite database only).
reset-demo:
	@if [ -n "$$DATABASE_URL" ]; then echo "reset-demo deletes the embedded SQLite database only; unset DATABASE_URL." >&2; exit 1; fi
	rm -f db.sqlite3
	$(MAKE) run

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -m "not e2e and not schemathesis" $(PYTEST_ARGS)

e2e: $(VENV)/.dev-installed
	@command -v /usr/bin/chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

# Every API operation against the live schema: no 5xx, every answer as documented.
schemathesis: $(VENV)/.dev-installed
	$(BIN)/pytest -m schemathesis tests/api $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench

# 1,000 open batch status pages and ten engineers against gunicorn on PostgreSQL (not in CI).
# INSTANCES=2: two gunicorns sharing PostgreSQL and Redis. See tests/load/run.py.
INSTANCES ?= 1
PAGES ?= 1000
CACHE ?= redis
THREADS ?= 1
loadtest: $(VENV)/.dev-installed
	$(BIN)/python -m tests.load.run --instances $(INSTANCES) --pages $(PAGES) --cache $(CACHE) --threads $(THREADS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
