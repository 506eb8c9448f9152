"""Request and response models shared by the Python API, the CLI and the HTTP API."""

from annoplan.planner.schemas.common import Metric, MetricSpec, Quantiles
from annoplan.planner.schemas.curves import (
    CalibrationSample,
    FitRequest,
    FitResponse,
    LabelsToReach,
    Pilot,
    PilotRound,
    Prediction,
)
from annoplan.planner.schemas.plans import Costs, PlanRequest, PlanResponse, Schedule, Value
from annoplan.planner.schemas.quotes import QuoteRequest, QuoteResponse, VendorCosts

__all__ = [
    "CalibrationSample",
    "Costs",
    "FitRequest",
    "FitResponse",
    "LabelsToReach",
    "Metric",
    "MetricSpec",
    "Pilot",
    "PilotRound",
    "PlanRequest",
    "PlanResponse",
    "Prediction",
    "Quantiles",
    "QuoteRequest",
    "QuoteResponse",
    "Schedule",
    "Value",
    "VendorCosts",
]
