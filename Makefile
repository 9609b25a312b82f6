# The two commands of the README: `make run` and `make test`. Each sets up
# what it needs on a fresh machine (see scripts/).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench multihost clean

run: $(VENV)/.run
	$(PY) manage.py serve $(ARGS)

test: $(VENV)/.test
	bash scripts/test.sh $(ARGS)

lint: $(VENV)/.test
	VENV=$(VENV) bash scripts/lint.sh

bench: $(VENV)/.test
	$(PY) -m bench

# MVidarr on five network namespaces as hosts, one worker host killed mid-run
# (needs root, iproute2, redis-server and PostgreSQL's binaries).
multihost: $(VENV)/.test
	$(PY) -m pytest -m multihost -s tests/test_multihost.py $(ARGS)

$(VENV)/.run: requirements.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV) requirements.txt
	touch $@

$(VENV)/.test: requirements.txt requirements-dev.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV) requirements-dev.txt
	touch $(VENV)/.run $@

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
