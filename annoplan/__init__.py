"""annoplan: what labeling a data set will cost under pre-labeling, active learning and hybrid routing.

The Python API (SPEC 4.1) takes a request as a dict (the JSON) or as its pydantic model and returns the
response model, whose ``model_dump(mode="json")`` is the JSON response::

    import annoplan

    fit = annoplan.fit_curve(request)     # learning-curve forecast from pilot rounds
    plan = annoplan.make_plan(request)    # every strategy's cost and the recommended settings
    quote = annoplan.make_quote(request)  # a vendor's correction-only price

Bad input raises :class:`annoplan.InvalidInputError` (a ``ValueError``) naming the field. The entry points
load on first use (PEP 562), so that ``import annoplan`` and the command line's ``--help`` stay fast.

The layers are subpackages, each importing only those before it: :mod:`annoplan.simulators` (Monte Carlo
and replay engines, costs, acceptance sampling), :mod:`annoplan.planner` (curves, thresholds, plans, quotes,
the request/response schemas), :mod:`annoplan.reports` (workbooks and charts) and :mod:`annoplan.api` (HTTP
API and command line). In the source tree they are the top-level folders of those names; ``annoplan/``
links them into one namespace, and the wheel installs them inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annoplan import planner
from annoplan.planner import FitError, InvalidInputError, NotFoundError, PlannerError

if TYPE_CHECKING:
    from annoplan.planner import fit_curve, make_plan, make_quote

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
    """The planner's entry points (:mod:`annoplan.planner` imports them on first use)."""
    if name in __all__:
        return getattr(planner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
