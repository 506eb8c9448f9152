"""Building blocks of every schema: strict models, quantiles, metrics, the bounds of an error guarantee."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: most list entries accepted in one request (rounds, targets, sizes, ...)
MAX_ITEMS = 10_000
#: most items in one calibration sample
MAX_CALIBRATION_ITEMS = 100_000

# The bounds of an error guarantee, declared once for every schema that carries one (the validator and the
# OpenAPI document both read them from the types below). A label-error goal ``eps`` at confidence
# ``1 - delta`` needs a calibration sample of at least ``ln(1/delta) / eps`` items, all of them right: at the
# tightest goal and delta allowed, TIGHTEST_CALIBRATION_SIZE (92,099) items, a sample a team can label and one
# request can carry (MAX_CALIBRATION_ITEMS); smaller values also ask the planner for samples no one could
# label. Above 0.5 neither is a guarantee: a delta above it fails more often than it holds, and a goal above
# it allows more of the pool wrong than right.

#: smallest and largest ``delta`` (the probability that an error guarantee fails)
MIN_DELTA = 1e-4
MAX_DELTA = 0.5
#: smallest and largest label-error goal (share of the pool left wrong)
MIN_LABEL_ERROR = 1e-4
MAX_LABEL_ERROR = 0.5
#: calibration items, all right, that the tightest goal at the smallest delta needs
TIGHTEST_CALIBRATION_SIZE = math.ceil(math.log(MIN_DELTA) / math.log1p(-MIN_LABEL_ERROR))

Delta = Annotated[
    float, Field(ge=MIN_DELTA, le=MAX_DELTA, description="1 - confidence of the error guarantee")
]
LabelErrorGoal = Annotated[
    float,
    Field(
        ge=MIN_LABEL_ERROR, le=MAX_LABEL_ERROR, description="largest share of the pool that may end up wrong"
    ),
]

#: an amount of money on the wire: a decimal string rounded to its currency's minor unit (``"1234.50"``,
#: ``"-12.00"`` for a saving that is a loss, ``"1500"`` in a currency without minor units)
MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
MoneyString = Annotated[
    str,
    Field(
        pattern=MONEY_PATTERN,
        description="a decimal string in the currency, rounded to its minor unit",
        examples=["1234.50"],
    ),
]


class StrictModel(BaseModel):
    """Base of request models: unknown fields, NaN, infinities and numbers given as text are rejected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)


class ResponseModel(BaseModel):
    """Base of response models."""

    model_config = ConfigDict(frozen=True)


class Quantiles(ResponseModel):
    """P10, P50 and P90 of a forecast quantity (p10 <= p50 <= p90)."""

    p10: float
    p50: float
    p90: float

    @model_validator(mode="after")
    def _ordered(self) -> Quantiles:
        if not self.p10 <= self.p50 <= self.p90:
            raise ValueError("quantiles must be ordered p10 <= p50 <= p90")
        return self


class MetricSpec(StrictModel):
    """A custom metric in [0, 1]: its name and whether higher is better."""

    name: str = Field(min_length=1, max_length=100)
    higher_is_better: bool


Metric = Literal["accuracy", "f1", "error_rate"] | MetricSpec


def higher_is_better(metric: Metric) -> bool:
    """Whether larger values of ``metric`` are better (accuracy, F1) or worse (error rate)."""
    if isinstance(metric, MetricSpec):
        return metric.higher_is_better
    return metric != "error_rate"


def metric_name(metric: Metric) -> str:
    return metric.name if isinstance(metric, MetricSpec) else metric
