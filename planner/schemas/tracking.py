"""Schema of plan versus actual (SPEC 4.1): the rounds really done in, the re-planned forecast out.

``POST /v1/plans/{id}/actuals`` and ``annoplan track`` take the rounds done so far, each with cumulative
counts and the cumulative cost as a decimal string; the answer sets them beside the plan's burn-up band,
re-plans the rest from the actual state and says in words what to do.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from annoplan.planner.schemas.common import (
    MAX_CALIBRATION_ITEMS,
    MAX_ITEMS,
    MoneyString,
    Quantiles,
    ResponseModel,
    StrictModel,
)
from annoplan.planner.schemas.plans import MoneyQuantiles
from annoplan.planner.schemas.policy import Policy

#: a non-negative amount of money on the way in: a decimal string (``"1234.50"``), never a float
MONEY_IN_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,6})?$"
#: the largest count a round may report (items)
MAX_COUNT = 10**10

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
TrackingStatus = Literal["on_track", "over_plan", "under_plan"]


class ActualCalibration(StrictModel):
    """The model's confidence and correctness, after this round, on random held-out items (as a pilot's
    calibration sample; its ``n_labels`` is the round's)."""

    confidence: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        min_length=1, max_length=MAX_CALIBRATION_ITEMS
    )
    correct: list[bool] = Field(min_length=1, max_length=MAX_CALIBRATION_ITEMS)

    @model_validator(mode="after")
    def _paired(self) -> ActualCalibration:
        if len(self.correct) != len(self.confidence):
            raise ValueError(
                f"correct has {len(self.correct)} items but confidence has {len(self.confidence)}: "
                "give one correctness flag per confidence"
            )
        return self


class ActualRound(StrictModel):
    """The state after one round really done; counts and cost are cumulative since the plan started (the
    pilot's labels not included)."""

    round: int = Field(ge=1, le=100_000, description="1 for the first round after the plan")
    human_labels: Count = Field(description="items humans touched: fresh labels, reviews and corrections")
    cost: str = Field(
        pattern=MONEY_IN_PATTERN,
        description="money spent so far, a decimal string in the plan's currency (e.g. 1234.50)",
        examples=["1234.50"],
    )
    corrections: Count | None = Field(default=None, description="pre-labels humans corrected")
    auto_accepted: Count | None = Field(default=None, description="items auto-accepted (audited ones too)")
    metric: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="the model's metric after this round on the pilot's evaluation set (the pilot's metric)",
    )
    calibration: ActualCalibration | None = Field(
        default=None, description="confidence and correctness on random held-out items after this round"
    )


class ActualsRequest(StrictModel):
    """The rounds really done so far, in order (each report repeats the earlier rounds)."""

    rounds: list[ActualRound] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("rounds")
    @classmethod
    def _cumulative(cls, rounds: list[ActualRound]) -> list[ActualRound]:
        for i in range(1, len(rounds)):
            before, now = rounds[i - 1], rounds[i]
            if now.round <= before.round:
                raise ValueError(
                    f"rounds must be in order with no repeats: rounds[{i}].round={now.round} follows "
                    f"rounds[{i - 1}].round={before.round}"
                )
            for name in ("human_labels", "corrections", "auto_accepted"):
                a, b = getattr(before, name), getattr(now, name)
                if a is not None and b is not None and b < a:
                    raise ValueError(
                        f"counts are cumulative: rounds[{i}].{name}={b} is below rounds[{i - 1}].{name}={a}"
                    )
            if float(now.cost) < float(before.cost):
                raise ValueError(
                    f"cost is cumulative: rounds[{i}].cost={now.cost} is below rounds[{i - 1}].cost="
                    f"{before.cost}"
                )
        return rounds


class BurnUpRow(ResponseModel):
    """One round: the plan's P10/P50/P90 of the cumulative cost, and what was really spent."""

    round: int
    plan_p10: MoneyString
    plan_p50: MoneyString
    plan_p90: MoneyString
    actual: MoneyString | None = Field(description="the actual cumulative cost (null: not reported)")


class TrackingForecast(ResponseModel):
    """The total from here: what was spent plus the re-plan of the rest (counts in items)."""

    strategy: str = Field(description="the strategy the re-plan recommends for the rest")
    cost: MoneyQuantiles = Field(description="total cost: spent so far plus the rest's cost")
    cost_to_go: MoneyQuantiles = Field(description="the rest's cost")
    human_labels: Quantiles = Field(description="total human-touched items: so far plus the rest's")
    days: Quantiles = Field(description="calendar days from now to the end")
    label_error: Quantiles = Field(description="share of the items left that ends up wrong")
    probability_goal_met: float = Field(description="of the rest, under the re-plan")


class ActualsResponse(ResponseModel):
    """Plan versus actual: spent, the re-planned forecast, the burn-up, a status and advice (SPEC 4.1)."""

    plan_id: str
    currency: str
    rounds: int = Field(description="the last round reported")
    spent: MoneyString = Field(description="money spent so far (the last round's cumulative cost)")
    items_left: int = Field(description="pool items still to label (the rest the re-plan covers)")
    plan_cost: MoneyQuantiles = Field(description="the plan's forecast of the total, for comparison")
    forecast: TrackingForecast
    burn_up: list[BurnUpRow] = Field(description="per round, the plan's band and the actual cost")
    status: TrackingStatus = Field(
        description="on_track: the last actual cost lies within the plan's P10-P90 for its round; "
        "over_plan above it; under_plan below it"
    )
    advice: list[str] = Field(description="what the numbers mean and what to do, in plain sentences")
    policy: Policy | None = Field(
        description="the runbook for the next rounds when the re-plan changes the process (strategy, "
        "batch size, threshold or cap); null: keep running the plan's policy"
    )
    assumptions: list[str] = Field(description="how the actual state was turned into the re-plan")
    warnings: list[str]
