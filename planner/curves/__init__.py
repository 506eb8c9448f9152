"""Learning curves: parametric families, fits and forecasts with uncertainty."""

from planner.curves.families import FAMILIES, CurveFamily
from planner.curves.fitting import FamilyFit, fit_family
from planner.curves.forecast import CurveForecast, fit_learning_curve
from simulators.draws import CurveDraws

__all__ = [
    "FAMILIES",
    "CurveDraws",
    "CurveFamily",
    "CurveForecast",
    "FamilyFit",
    "fit_family",
    "fit_learning_curve",
]
