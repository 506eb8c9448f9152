"""Active learning's label efficiency: how many random labels one uncertainty-chosen label is worth.

Learning with ``n`` actively chosen labels is modelled as random learning with ``efficiency * n`` labels. With
an active-learning arm in the pilot (rounds on the same evaluation set), each curve draw gets its own
efficiency: the labels that draw's random curve needs to reach the arm's measured error (itself drawn within
its measurement noise), divided by the labels the arm used, averaged over the arm's rounds in log space.
Without one, a lognormal prior measured on public datasets (``benchmarks/al_efficiency.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from annoplan.planner.fit import round_variance
from annoplan.planner.schemas.curves import PilotRound
from annoplan.simulators.draws import CurveDraws

Array = npt.NDArray[np.float64]

#: prior without an active-learning arm (median, log-sd): pooled median 1.34, log-sd 0.81 measured on 12
#: public datasets, worse than random in 34% of them
PRIOR_MEDIAN = 1.3
PRIOR_LOG_SD = 0.8
#: efficiencies are kept within [1 / LIMIT, LIMIT] (an arm past the random curve's floor is not infinitely
#: efficient)
LIMIT = 10.0


@dataclass(frozen=True)
class EfficiencyDraws:
    """One efficiency per curve draw, and the sentence saying where they come from."""

    values: Array
    source: str


def draw_efficiency(
    arm: list[PilotRound] | None,
    curve: CurveDraws,
    higher_better: bool,
    rng: np.random.Generator,
) -> EfficiencyDraws:
    """Efficiency per curve draw, from the pilot's active-learning ``arm`` when given, else the prior."""
    n_draws = curve.n_draws
    if not arm:
        values = np.exp(np.log(PRIOR_MEDIAN) + PRIOR_LOG_SD * rng.standard_normal(n_draws))
        return EfficiencyDraws(
            values,
            f"prior: lognormal, median {PRIOR_MEDIAN}, log-sd {PRIOR_LOG_SD}, measured on public datasets "
            "(the pilot has no active-learning arm)",
        )
    log_ratios = []
    for r in arm:
        error = 1.0 - r.value if higher_better else r.value
        sd = np.sqrt(round_variance(r, error))
        measured = np.clip(error + sd * rng.standard_normal(n_draws), 1e-6, 1.0)
        need = curve.labels_to_reach(measured)
        log_ratios.append(np.log(np.clip(need / r.n_labels, 1.0 / LIMIT, LIMIT)))
    weights = np.array([r.n_labels for r in arm], dtype=float)
    values = np.exp(np.average(np.array(log_ratios), axis=0, weights=weights))
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return EfficiencyDraws(
        values,
        f"estimated from the pilot's active-learning arm ({len(arm)} rounds, {arm[0].n_labels:,} to "
        f"{arm[-1].n_labels:,} labels) against the random rounds' curve: P10/P50/P90 {p10:.2f}/{p50:.2f}/"
        f"{p90:.2f}; assumed to hold past the pilot",
    )
