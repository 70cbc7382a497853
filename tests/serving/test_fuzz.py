"""Schemathesis against the service's own OpenAPI schema: no 5xx, no schema violations.


Each operation gets ``MAX_EXAMPLES`` generated requests that fit the schema and as many
that break it (hypothesis, so the run is bounded). The operations are walked by hand
rather than through ``schemathesis.pytest.from_fixture``: with pytest 9, schemathesis
4.32's lazy loader reads ``request.node._nodeid``, which pytest no longer has.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.serving.conftest import RunningService

MAX_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_every_operation_conforms_to_the_schema(
    service: RunningService, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{service.url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/predict", "/predict/batch", "/batch-predict"}
    calls: list[str] = []
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.method.upper() != "POST":
            continue  # an operation without inputs has no invalid input to generate

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            calls.append(case.operation.path)
            case.call_and_validate(checks=CHECKS)

        check()
    assert len(calls) >= 5 * len(set(calls)) > 0, len(calls)
