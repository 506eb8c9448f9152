"""Learning curves: parametric families, fits and forecasts with uncertainty."""

from annoplan.planner.curves.families import FAMILIES, CurveFamily
from annoplan.planner.curves.forecast import CurveForecast, fit_learning_curve
from annoplan.planner.curves.least_squares import FamilyFit, fit_family
from annoplan.simulators.draws import CurveDraws

__all__ = [
    "FAMILIES",
    "CurveDraws",
    "CurveFamily",
    "CurveForecast",
    "FamilyFit",
    "fit_family",
    "fit_learning_curve",
]
