"""annoplan's domain: learning-curve forecasts, plans and vendor quotes.

The Python API takes a request as a dict (the JSON) or as its pydantic model and returns the response model,
whose ``model_dump(mode="json")`` is the JSON response.

``fit_curve``, ``make_plan`` and ``make_quote`` are imported on first use (PEP 562), so that importing a
light module of the package (``annoplan.planner.errors``) does not load scipy and scikit-learn: the command
line's ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from annoplan.planner.errors import FitError, InvalidInputError, NotFoundError, PlannerError

if TYPE_CHECKING:
    from annoplan.planner.fit import fit_curve
    from annoplan.planner.plans import make_plan
    from annoplan.planner.quotes import make_quote

#: the entry points, by the module (relative to this package) that defines them
_LAZY = {"fit_curve": ".fit", "make_plan": ".plans", "make_quote": ".quotes"}

__all__ = [
    "FitError",
    "InvalidInputError",
    "NotFoundError",
    "PlannerError",
    "fit_curve",
    "make_plan",
    "make_quote",
]


def __getattr__(name: str) -> Any:
    """Import an entry point on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
