"""Schemas of ``fit_curve``: pilot rounds in, metric forecasts and labels-to-target out (SPEC 4.1)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator, model_validator

from annoplan.planner.schemas.common import (
    MAX_CALIBRATION_ITEMS,
    MAX_ITEMS,
    Metric,
    ResponseModel,
    StrictModel,
)

#: the largest number of labels a request may name (a forecast, not an inventory)
MAX_LABELS = 10**12
#: the most seeds or folds a round's value may average
MAX_RUNS = 10_000

#: model families a pilot may name (``other`` when none fits or none is given)
ModelFamily = Literal[
    "linear",
    "naive_bayes",
    "nearest_neighbors",
    "kernel_svm",
    "tree",
    "tree_ensemble",
    "neural_network",
    "foundation_model",
    "other",
]
MODEL_FAMILIES: tuple[str, ...] = get_args(ModelFamily)


class PilotRound(StrictModel):
    """One pilot round: after ``n_labels`` human labels, the model measured ``value`` on a fixed eval set."""

    n_labels: int = Field(ge=1, le=MAX_LABELS, description="cumulative human labels (count)")
    value: float = Field(ge=0.0, le=1.0, description="metric measured on the evaluation set, in [0, 1]")
    n_eval: int | None = Field(default=None, ge=1, description="evaluation-set size (items)")
    std: float | None = Field(default=None, ge=0.0, le=1.0, description="spread over seeds/folds")
    n_runs: int | None = Field(
        default=None,
        ge=1,
        le=MAX_RUNS,
        description=(
            "how many seeds or folds value and std were averaged over: the noise of value is then "
            "std / sqrt(n_runs) (omitted: one run)"
        ),
    )
    train_value: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description=(
            "metric of this round's model on its own training labels, in [0, 1]: the gap to value tells a "
            "model still learning from one that has stopped"
        ),
    )


def check_rounds(rounds: list[PilotRound] | None) -> list[PilotRound] | None:
    """Rounds must be strictly increasing in ``n_labels`` (pydantic names the index of the culprit)."""
    if rounds is None:
        return None
    for i in range(1, len(rounds)):
        if rounds[i].n_labels <= rounds[i - 1].n_labels:
            what = "duplicates" if rounds[i].n_labels == rounds[i - 1].n_labels else "is below"
            raise ValueError(
                f"rounds must be sorted by n_labels with no repeats: rounds[{i}].n_labels="
                f"{rounds[i].n_labels} {what} rounds[{i - 1}].n_labels={rounds[i - 1].n_labels}"
            )
    return rounds


class CalibrationSample(StrictModel):
    """Confidence and correctness of the model after ``n_labels`` labels, on a random held-out sample."""

    n_labels: int = Field(ge=1, le=MAX_LABELS)
    confidence: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        min_length=1, max_length=MAX_CALIBRATION_ITEMS, description="higher means more likely right"
    )
    correct: list[bool] = Field(min_length=1, max_length=MAX_CALIBRATION_ITEMS)

    @model_validator(mode="after")
    def _same_length(self) -> CalibrationSample:
        if len(self.correct) != len(self.confidence):
            raise ValueError(
                f"correct has {len(self.correct)} items but confidence has {len(self.confidence)}: "
                "give one correctness flag per confidence"
            )
        return self


class Pilot(StrictModel):
    """Pilot rounds and optional calibration samples (the ``pilot`` of a plan request)."""

    metric: Metric = "accuracy"
    model: ModelFamily | None = Field(
        default=None,
        description=(
            "family of the model the rounds were measured with (omitted: unknown, as other); it helps the "
            "forecast tell how the curve goes on"
        ),
    )
    rounds: list[PilotRound] = Field(min_length=2, max_length=MAX_ITEMS)
    calibration: list[CalibrationSample] = Field(
        default_factory=list,
        max_length=100,
        description="confidence and correctness samples; a curve fit accepts but does not use them",
    )
    active_learning: list[PilotRound] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ITEMS,
        description=(
            "rounds of an active-learning arm scored on the same evaluation set: a plan estimates active "
            "learning's label efficiency from them; a curve fit accepts but does not use them"
        ),
    )

    _sorted = field_validator("rounds", "active_learning")(check_rounds)


class FitRequest(Pilot):
    """Fit a learning curve to pilot rounds and forecast the metric and the labels needed for targets.

    A plan's ``pilot`` object is a fit request as it is.
    """

    name: str | None = Field(default=None, max_length=200, description="free text, shown in reports")
    targets: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="metric values to reach, each in [0, 1]"
    )
    at_labels: list[Annotated[int, Field(ge=1, le=MAX_LABELS)]] | None = Field(
        default=None, max_length=MAX_ITEMS, description="label counts to forecast the metric at"
    )


class Prediction(ResponseModel):
    """Quantiles of the metric a model trained on ``n_labels`` labels will measure."""

    n_labels: int
    p10: float
    p50: float
    p90: float


class LabelsToReach(ResponseModel):
    """Quantiles of the labels needed to reach ``target`` (null where that quantile never reaches it)."""

    target: float
    p10: int | None
    p50: int | None
    p90: int | None
    probability_reachable: float


class FitResponse(ResponseModel):
    """Forecast of the learning curve (SPEC 4.1 fit response)."""

    metric: str
    predictions: list[Prediction]
    labels_to_reach: list[LabelsToReach]
    families: dict[str, float] = Field(
        description=(
            "fixed prior weight of each parametric curve family in the families' model average (normalised; "
            "the same for every pilot, not fitted to it). Without model or train_value the forecast is that "
            "average; with them a learned model forecasts from the last pilot round to 100x it and the "
            "families only the sizes before and beyond"
        )
    )
    warnings: list[str]
