"""What a request is simulated on, built once for plans, quotes, comparisons and re-plans: its goal as the
Monte Carlo judges it (:class:`Goal`) and the draws of the world it plans for (:class:`Scenario`).

Every entry point draws in one order from the request's seed: the learning curves, active learning's
efficiency, then (its own business) hybrid routing and the sampling noise. A plan, the comparison of one
rate card and the re-plan of a plan's recommendation therefore see the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annoplan.planner.curves.forecast import CurveForecast
from annoplan.planner.efficiency import EfficiencyDraws, draw_efficiency
from annoplan.planner.fit import forecast_from_rounds
from annoplan.planner.policy import start_labels
from annoplan.planner.schemas.common import higher_is_better
from annoplan.planner.schemas.curves import Pilot
from annoplan.planner.schemas.plans import LabeledDatasetGoal, ModelMetricGoal, PlanRequest
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.simulators.draws import CurveDraws

__all__ = ["Goal", "Scenario"]


@dataclass(frozen=True)
class Goal:
    """A request's goal in the Monte Carlo's terms: a labeled dataset with at most ``max_label_error`` of the
    pool wrong, or a model whose error reaches ``target_error``; ``higher_better`` is the direction of the
    metric the request states its target and forecasts in."""

    max_label_error: float | None
    target_error: float | None
    higher_better: bool

    @classmethod
    def of(cls, goal: LabeledDatasetGoal | ModelMetricGoal, pilot: Pilot) -> Goal:
        """The goal of a request whose pilot measures its metric."""
        higher_better = higher_is_better(pilot.metric)
        if isinstance(goal, LabeledDatasetGoal):
            return cls(goal.max_label_error, None, higher_better)
        return cls(None, 1.0 - goal.target if higher_better else goal.target, higher_better)

    @property
    def labeled_dataset(self) -> bool:
        """Whether the goal is a labeled dataset (else a model metric)."""
        return self.max_label_error is not None

    def arguments(self) -> dict[str, float]:
        """The goal as :func:`annoplan.simulators.montecarlo.simulate_stops` takes it."""
        if self.max_label_error is not None:
            return {"max_label_error": self.max_label_error}
        assert self.target_error is not None
        return {"target_error": self.target_error}

    def metric(self, error: np.ndarray) -> np.ndarray:
        """The request's metric at model ``error`` (accuracy-like metrics are 1 - error)."""
        return 1.0 - error if self.higher_better else error


@dataclass(frozen=True)
class Scenario:
    """The draws a request is simulated on: the learning-curve ``forecast`` from the pilot rounds, its
    ``curve`` draws, active learning's ``efficiency`` per draw, the labels the work starts from
    (``labels_before``, the pilot's when kept) and the random stream ``rng`` the caller goes on drawing from
    (hybrid routing, then the seed of the sampling noise)."""

    forecast: CurveForecast
    curve: CurveDraws
    efficiency: EfficiencyDraws
    labels_before: int
    rng: np.random.Generator

    @classmethod
    def from_request(cls, req: PlanRequest | QuoteRequest) -> Scenario:
        """Draw the scenario of a plan or quote request (a comparison passes its scenario as a plan)."""
        higher_better = higher_is_better(req.pilot.metric)
        rng = np.random.default_rng(req.seed)
        forecast = forecast_from_rounds(req.pilot.rounds, higher_better, req.pilot.model)
        curve = forecast.sample(req.draws, rng)
        efficiency = draw_efficiency(req.pilot.active_learning, curve, higher_better, rng)
        return cls(forecast, curve, efficiency, start_labels(req), rng)
