"""annoplan's domain: learning-curve forecasts and plans (quotes as they land).

The Python API takes a request as a dict (the JSON) or as its pydantic model and returns the response model,
whose ``model_dump(mode="json")`` is the JSON response.
"""

from planner.errors import FitError, InvalidInputError, NotFoundError, PlannerError
from planner.fit import fit_curve
from planner.plans import make_plan

__all__ = ["FitError", "InvalidInputError", "NotFoundError", "PlannerError", "fit_curve", "make_plan"]
