"""Request and response models shared by the Python API, the CLI and the HTTP API."""

from planner.schemas.common import Metric, MetricSpec, Quantiles
from planner.schemas.curves import FitRequest, FitResponse, LabelsToReach, PilotRound, Prediction

__all__ = [
    "FitRequest",
    "FitResponse",
    "LabelsToReach",
    "Metric",
    "MetricSpec",
    "PilotRound",
    "Prediction",
    "Quantiles",
]
