"""The rate card: unit prices of human and machine work in a labeling project."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from numbers import Real
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.volumes import Volumes

Array = npt.NDArray[np.float64]

__all__ = ["RateCard"]


@dataclass(frozen=True)
class RateCard:
    """Unit prices of a labeling project, in one currency (the caller keeps track of which).

    The field names match the ``costs`` object of a plan request.

    Parameters
    ----------
    label : float
        Price of one fresh human label (currency units per item).
    review : float
        Price of a human review of a model pre-label that was right (currency units per item).
    correction : float
        Price of a human correction of a model pre-label that was wrong (currency units per item).
    audit : float
        Price of auditing one auto-accepted item (currency units per item).
    audit_rate : float
        Share of auto-accepted items that are audited, in [0, 1] (dimensionless).
    platform_fee : float
        Fee per item that ends labeled, whether touched by humans or auto-accepted (currency units
        per item).
    round_overhead : float
        Fixed cost of one round: retraining, project management (currency units per round).
    """

    label: float = 1.0
    review: float = 0.25
    correction: float = 1.0
    audit: float = 0.25
    audit_rate: float = 0.05
    platform_fee: float = 0.0
    round_overhead: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, Real):
                raise SimulatorInputError(f"costs.{item.name}", f"must be a number, got {value!r}")
            if not math.isfinite(float(value)) or float(value) < 0:
                raise SimulatorInputError(
                    f"costs.{item.name}", f"must be a finite number >= 0, got {value!r}"
                )
            object.__setattr__(self, item.name, float(value))
        if self.audit_rate > 1.0:
            raise SimulatorInputError("costs.audit_rate", f"must be in [0, 1], got {self.audit_rate!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RateCard:
        """Build a rate card from a plan request's ``costs`` object.

        Missing fields take the defaults; a ``currency`` key is ignored; any other unknown key is an
        error.

        Parameters
        ----------
        values : mapping of str to float
            Unit prices by field name (currency units per item, or per round for
            ``round_overhead``).

        Returns
        -------
        RateCard
        """
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known - {"currency"})
        if unknown:
            raise SimulatorInputError(
                f"costs.{unknown[0]}",
                f"unknown rate card field; expected some of {', '.join(sorted(known))}",
            )
        return cls(**{name: value for name, value in values.items() if name in known})

    @overload
    def total(self, work: Volumes[Array]) -> Array: ...
    @overload
    def total(self, work: Volumes[int] | Volumes[float]) -> float: ...
    def total(self, work: Volumes[Any]) -> Any:
        """Total cost of the volumes of work ``work`` (one count each, or one per draw).

        Parameters
        ----------
        work : Volumes
            Items labeled fresh, reviewed, corrected, audited, auto-accepted, and rounds run (any result
            that extends :class:`Volumes`: a Monte Carlo outcome, a replay or one of its rounds).

        Returns
        -------
        float or array (one cost per entry of the volumes)
            Cost in currency units: ``label * fresh_labels + review * reviews + correction *
            corrections + audit * audits + platform_fee * (fresh_labels + reviews + corrections +
            auto_accepted) + round_overhead * rounds``; :meth:`parts` splits it by kind of work.
        """
        touched = work.fresh_labels + work.reviews + work.corrections + work.auto_accepted
        return (
            self.label * work.fresh_labels
            + self.review * work.reviews
            + self.correction * work.corrections
            + self.audit * work.audits
            + self.platform_fee * touched
            + self.round_overhead * work.rounds
        )

    @overload
    def parts(self, work: Volumes[Array]) -> dict[str, Array]: ...
    @overload
    def parts(self, work: Volumes[int] | Volumes[float]) -> dict[str, float]: ...
    def parts(self, work: Volumes[Any]) -> dict[str, Any]:
        """The cost of each kind of work in ``work``, by volume name: the platform fee goes with every item
        that ends labeled (fresh, reviewed, corrected, auto-accepted), the round overhead with the rounds.
        The parts sum to :meth:`total` (up to rounding)."""
        fee = self.platform_fee
        return {
            "fresh_labels": (self.label + fee) * work.fresh_labels,
            "reviews": (self.review + fee) * work.reviews,
            "corrections": (self.correction + fee) * work.corrections,
            "audits": self.audit * work.audits,
            "auto_accepted": fee * work.auto_accepted,
            "rounds": self.round_overhead * work.rounds,
        }

    def to_dict(self) -> dict[str, float]:
        """The rate card as a plain dict of floats."""
        return asdict(self)
