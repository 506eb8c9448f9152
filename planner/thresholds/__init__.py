"""Confidence thresholds with a guarantee, and how coverage at a threshold grows as the model learns."""

from annoplan.planner.thresholds.bounds import calibration_size_needed, clopper_pearson_upper
from annoplan.planner.thresholds.certify import (
    DEFAULT_THRESHOLDS,
    TABLE_THRESHOLDS,
    RiskTable,
    ThresholdCertificate,
    certify_threshold,
    certify_thresholds,
    risk_by_threshold,
)
from annoplan.planner.thresholds.forecast import (
    CheckedSamples,
    LogitTrend,
    SelectionDraws,
    SelectionForecast,
    fit_selection_curves,
)
from annoplan.planner.thresholds.samples import CalibrationRound, RiskKind, check_sample

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TABLE_THRESHOLDS",
    "CalibrationRound",
    "CheckedSamples",
    "LogitTrend",
    "RiskKind",
    "RiskTable",
    "SelectionDraws",
    "SelectionForecast",
    "ThresholdCertificate",
    "calibration_size_needed",
    "certify_threshold",
    "certify_thresholds",
    "check_sample",
    "clopper_pearson_upper",
    "fit_selection_curves",
    "risk_by_threshold",
]
