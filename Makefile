# The two commands of the README: `make run` and `make test` (and the fault
# drills, `make drills`). Each sets up what it needs on a fresh machine (see scripts/).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test drills lint bench multihost clean

run: $(VENV)/.run
	$(PY) manage.py serve $(ARGS)

test: $(VENV)/.test
	bash scripts/test.sh $(ARGS)

drills: $(VENV)/.test
	VENV=$(VENV) bash scripts/drills.sh $(ARGS)

lint: $(VENV)/.test
	VENV=$(VENV) bash scripts/lint.sh

bench: $(VENV)/.test
	$(PY) -m bench

# One drill alone: MVidarr on five network namespaces as hosts, one worker host
# killed mid-run (needs root, iproute2, redis-server and PostgreSQL's binaries).
multihost: $(VENV)/.test
	$(PY) -m pytest -s tests/drills/test_multihost.py $(ARGS)

$(VENV)/.run: requirements.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV) requirements.txt
	touch $@

$(VENV)/.test: requirements.txt requirements-dev.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV) requirements-dev.txt
	touch $(VENV)/.run $@

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
