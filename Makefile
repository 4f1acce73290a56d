# CVN — two commands: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: install run test test-sqlite test-postgres chromium bench mutate worker clean lint engine-native engine-python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed

## run: migrate, load the demo data, serve on http://localhost:5000 with the scheduler
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask cvn demo
	@echo "Boîte d'envoi (e-mails de développement) : http://localhost:5000/dev/boite-mail/"
	CVN_SCHEDULER=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

## worker: the scheduled jobs in their own process (as in production)
worker: install
	$(BIN)/flask cvn worker

## chromium: use CVN_CHROMIUM, else the system's, else install Playwright's own
chromium: $(VENV)/.installed-test
	@if [ -n "$$CVN_CHROMIUM" ]; then echo "Chromium : $$CVN_CHROMIUM"; \
	elif [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then echo "Chromium : $$(command -v chromium || echo /usr/bin/chromium)"; \
	else $(BIN)/playwright install chromium; fi

## lint: ruff (rules in pyproject.toml) and bandit (no medium or high finding in cvn/)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check cvn tests bench
	$(BIN)/bandit -q -r cvn -ll -c pyproject.toml

## test: static checks, then the whole suite on SQLite, then again on PostgreSQL when CVN_TEST_DATABASE_URL is set
test: $(VENV)/.installed-test chromium lint
	CVN_TEST_DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$CVN_TEST_DATABASE_URL" ]; then \
		echo "== même suite sur $$CVN_TEST_DATABASE_URL =="; \
		$(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

## bench: the speed benchmarks (ratios, not timed tests)
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

## engine-native: compile the status engine with mypyc (optional; the .py files stay the reference)
ENGINE_NATIVE := cvn/schedule/series.py cvn/schedule/seasons.py cvn/schedule/engine.py
engine-native: $(VENV)/.installed
	$(BIN)/pip install -q 'mypy>=1.10'
	$(BIN)/mypyc --follow-imports=silent --ignore-missing-imports $(ENGINE_NATIVE)
	touch cvn/schedule/*.so  # setuptools keeps a cached module's old date

## engine-python: remove the compiled engine, back to the pure-Python one
engine-python:
	rm -f cvn/schedule/*.so *__mypyc.*.so

## mutate: mutation testing of the critical modules against their tests (slow, not in `make test`); prints the score.
## MUTANTS="access sharing" narrows to some modules; MUTMUT_CHILDREN=1 on a busy machine.
MUTMUT_CHILDREN ?= 2
mutate: $(VENV)/.installed-test
	$(BIN)/python -m tests.mutation.run --max-children $(MUTMUT_CHILDREN) $(MUTANTS)

clean:
	rm -rf $(VENV) .pytest_cache tests/screenshots mutants mutants-scores build cvn/schedule/*.so *__mypyc.*.so
