"""Building blocks of every schema: strict models, quantiles, metrics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: most list entries accepted in one request (rounds, targets, sizes, ...)
MAX_ITEMS = 10_000


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
