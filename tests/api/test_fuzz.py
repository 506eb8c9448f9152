"""Nothing a caller sends makes the server fail.

schemathesis fuzzes the API against its own OpenAPI document with every check (positive data may still get
422: the document cannot say everything a request must satisfy, such as pilot rounds sorted by n_labels, one
correctness flag per confidence, or the server's cap on simulation size). Few of its plans get past
validation, so hypothesis then draws valid plans and quotes over the scenario space (pools of one item,
batches larger than the pool, free or costly work, either goal, any strategy mix) to reach the planner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from annoplan.api.app import create_app
from annoplan.api.settings import Settings
from tests.api.conftest import KEY, example

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


money = st.floats(0.0, 1e3)
scenario = {
    "pool_size": st.integers(1, 10**7),
    "batch_sizes": st.lists(st.integers(1, 10**6), min_size=1, max_size=3),
    "seed": st.integers(0, 2**32 - 1),
    "delta": st.floats(0.001, 0.5),
}
costs = st.fixed_dictionaries(
    {
        "label": money,
        "review": money,
        "correction": money,
        "audit": money,
        "audit_rate": st.floats(0.0, 1.0),
        "platform_fee": money,
        "round_overhead": money,
    }
)
goals = st.one_of(
    st.builds(lambda t: {"type": "model_metric", "target": t}, st.floats(0.0, 1.0)),
    st.builds(lambda e: {"type": "labeled_dataset", "max_label_error": e}, st.floats(0.001, 0.999)),
)
strategies = st.lists(
    st.sampled_from(["manual", "prelabel", "active_learning", "hybrid"]), min_size=1, max_size=4, unique=True
)


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    settings = Settings(api_keys=(KEY,), database_url="sqlite://", max_plan_work=2_000_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@hypothesis.seed(20261121)
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    changes=st.fixed_dictionaries(
        scenario | {"goal": goals, "strategies": strategies, "probability": st.floats(0.01, 0.99)}
    ),
    rate_card=costs,
    calibrated=st.booleans(),
)
def test_valid_plans_never_fail_on_the_server(
    fuzz_client: TestClient, changes: dict[str, Any], rate_card: dict[str, float], calibrated: bool
) -> None:
    request = example("plan.json") | changes | {"draws": 100}
    request["costs"] = request["costs"] | rate_card
    if not calibrated:
        request["pilot"] = request["pilot"] | {"calibration": []}
    response = fuzz_client.post("/v1/plans", json=request, headers={"X-API-Key": KEY})
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert (
            fuzz_client.get(response.headers["location"], headers={"X-API-Key": KEY}).content
            == response.content
        )


@hypothesis.seed(20261121)
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    changes=st.fixed_dictionaries(
        scenario
        | {
            "max_label_error": st.floats(0.001, 0.999),
            "margin": st.floats(0.0, 10.0),
            "risk_level": st.floats(0.51, 0.99),
            "validity_days": st.integers(1, 3650),
        }
    ),
    vendor_costs=st.fixed_dictionaries(
        {"review": money, "correction": money, "audit": money, "audit_rate": st.floats(0.0, 1.0)}
    ),
)
def test_valid_quotes_never_fail_on_the_server(
    fuzz_client: TestClient, changes: dict[str, Any], vendor_costs: dict[str, float]
) -> None:
    request = example("quote.json") | changes | {"draws": 100}
    request["vendor_costs"] = request["vendor_costs"] | vendor_costs
    response = fuzz_client.post("/v1/quotes", json=request, headers={"X-API-Key": KEY})
    assert response.status_code in (201, 422), response.text
