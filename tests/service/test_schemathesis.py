"""Property-based robustness against the service's own OpenAPI (schemathesis): no 500s,
status codes and bodies as documented, for a bounded number of generated requests."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from dlclab.service.dependencies import current_user
from dlclab.service.auth import User
from tests.service.conftest import make_client

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def app(lab):
    client = make_client(lab, User("fuzzer", frozenset({"taiga"})))
    with client:  # runs the lifespan: catalogue and export workers
        yield client.app


def test_api_conforms_to_its_schema(app):
    """Every operation, 25 generated cases each (deterministic: derandomize)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect all operations' failures
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_the_schema_is_served_only_with_authentication(lab):
    from fastapi.testclient import TestClient
    from dlclab.service import ServiceSettings, create_app

    app = create_app(ServiceSettings(db_url=lab["db_url"], export_dir=lab["export_dir"]))
    with TestClient(app) as anonymous:  # the real identity: no hub token -> 401
        assert anonymous.get("/openapi.json").status_code == 401
    assert current_user  # the override used above is the only way in without a hub
