"""The API against its own OpenAPI document, fuzzed by schemathesis with every check.

Positive data may still get 422: the document cannot say everything a request must satisfy (pilot rounds
sorted by n_labels, one correctness flag per confidence, the server's cap on simulation size).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import KEY

MAX_EXAMPLES = 25

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261121,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "422"]}},
        "auth": {"openapi": {"ApiKey": {"api_key": KEY}}},
    }
)


#: an in-memory database: the fuzzer's plans live and die with the test process
APP = create_app(Settings(api_keys=(KEY,), database_url="sqlite://", max_plan_work=2_000_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    case.call_and_validate()
