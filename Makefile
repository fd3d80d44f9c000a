# Haven: the two commands a newcomer needs are `make up` and `make test`.
.PHONY: up down test install lint stack-down
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

install:            ## install system packages, Python packages and the Java servers (idempotent)
	bash deploy/install.sh

up: install         ## start Keycloak, Kafka and the three services (SQLite)
	bash deploy/up.sh

down:               ## stop what `make up` started
	bash deploy/down.sh

test: install       ## run the whole test suite against real PostgreSQL, Kafka and Keycloak
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint:
	$(UV) run --frozen ruff check shared services tests bench
	$(UV) run --frozen lint-imports

stack-down:         ## stop a test stack kept with HAVEN_TEST_STACK_DIR (default .run/teststack)
	$(UV) run --frozen python -m haven_shared.testing.stack stop $(or $(HAVEN_TEST_STACK_DIR),.run/teststack)
