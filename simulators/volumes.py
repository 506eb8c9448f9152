"""The volumes of work a labeling process does: the one record the Monte Carlo and the replay engines fill in,
the plan's ``expected_work`` reports and the rate card prices (:meth:`simulators.costs.RateCard.total`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

#: a volume of work: a count for one replay, or one count per draw in the Monte Carlo simulation
Volume = TypeVar("Volume", int, float, npt.NDArray[np.float64])

__all__ = ["VOLUME_FIELDS", "Volume", "Volumes"]


@dataclass(frozen=True)
class Volumes(Generic[Volume]):
    """What a labeling process did, in items (``rounds`` in rounds): cumulative counts, or one per draw.

    The engines' results extend it (:class:`simulators.montecarlo.Outcome` per draw,
    :class:`simulators.replay.ReplayRound` and :class:`simulators.replay.ReplayResult` per replay), so every
    one of them is priced by the same :meth:`simulators.costs.RateCard.total`.

    Attributes
    ----------
    fresh_labels : float or array
        Items humans labeled from scratch.
    reviews : float or array
        Model pre-labels humans reviewed and found right.
    corrections : float or array
        Model pre-labels humans found wrong and corrected.
    audits : float or array
        Auto-accepted items humans audited (part of ``auto_accepted``).
    auto_accepted : float or array
        Items accepted from the model without a human review (audited ones included).
    rounds : float or array
        Rounds run (each may carry a fixed overhead).
    """

    fresh_labels: Volume
    reviews: Volume
    corrections: Volume
    audits: Volume
    auto_accepted: Volume
    rounds: Volume

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Volumes[Any]:
        """The volumes among ``values`` (a mapping with at least :data:`VOLUME_FIELDS`; the rest ignored)."""
        return cls(**{name: values[name] for name in VOLUME_FIELDS})

    def volumes(self) -> Volumes[Volume]:
        """Only the volumes of this record (a result that extends it drops its other fields)."""
        return Volumes(**{name: getattr(self, name) for name in VOLUME_FIELDS})


#: the names of the volumes, in their order
VOLUME_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(Volumes))
