"""annoplan's domain: learning-curve forecasts, plans and vendor quotes.

The Python API takes a request as a dict (the JSON) or as its pydantic model and returns the response model,
whose ``model_dump(mode="json")`` is the JSON response.
"""

from planner.errors import FitError, InvalidInputError, NotFoundError, PlannerError
from planner.fit import fit_curve
from planner.plans import make_plan
from planner.quotes import make_quote

__all__ = [
    "FitError",
    "InvalidInputError",
    "NotFoundError",
    "PlannerError",
    "fit_curve",
    "make_plan",
    "make_quote",
]
