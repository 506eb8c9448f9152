"""``fit_curve``: pilot rounds in, metric forecasts and labels-to-target out (SPEC 3.1, 4.1)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from annoplan.planner.curves import CurveForecast, fit_learning_curve
from annoplan.planner.curves.forecast import ERROR_MIN, measurement_var
from annoplan.planner.curves.learned import LearnedCurveModel, load_learned_model
from annoplan.planner.schemas.common import higher_is_better, metric_name
from annoplan.planner.schemas.curves import FitRequest, FitResponse, LabelsToReach, PilotRound, Prediction
from annoplan.planner.validation import parse_request
from annoplan.simulators.draws import CurveDraws

#: draws behind every forecast's quantiles (fixed seed: the same request gives the same answer)
N_DRAWS = 2000
SEED = 20261121
#: noise assumed for a round that gives neither ``n_eval`` nor ``std`` (binomial on this many items)
DEFAULT_N_EVAL = 500
#: variance of a single run from which items were labeled: binomial on n_labels (this factor times it); the
#: spread of replayed runs (benchmarks/noise_check.py) gives 0.84 on average, with a median of 0.22: most
#: runs are calmer, and a curve's steep phase far noisier (up to 10x)
TRAIN_NOISE = 1.0
#: forecasts further than this multiple of the last pilot round are flagged as far extrapolation
FAR_FACTOR = 10.0
#: fewer pilot rounds than this is flagged
FEW_ROUNDS = 4
QUANTILES = np.array([0.1, 0.5, 0.9])
#: a pilot round meets a target when it measured beyond it by this many standard deviations of its
#: measurement noise (one-sided 90%, the P10/P90 of the forecast); within them the forecast answers
MET_Z = 1.2816


def round_n_eval(r: PilotRound) -> int | None:
    """The evaluation size behind a round's noise: its own, none when it gives ``std``, else the default."""
    return r.n_eval if r.n_eval is not None or r.std is not None else DEFAULT_N_EVAL


def round_std(r: PilotRound) -> float | None:
    """The spread of a round's value: ``std`` over ``sqrt(n_runs)`` when it averages ``n_runs`` runs."""
    if r.std is None:
        return None
    return r.std / float(np.sqrt(r.n_runs)) if r.n_runs is not None else r.std


def round_train_noise(r: PilotRound) -> float:
    """Noise of which items were labeled (see :data:`TRAIN_NOISE`), averaged over ``n_runs`` runs."""
    return TRAIN_NOISE / r.n_runs if r.n_runs is not None else TRAIN_NOISE


def round_variance(r: PilotRound, error: float) -> float:
    """Variance of a round's measured error (see :func:`measurement_var`).

    A value averaged over ``n_runs`` seeds or folds has its ``std`` (and, without one, the noise of which
    items were labeled) divided by ``sqrt(n_runs)``; the evaluation set's binomial noise is shared by the
    runs and stays.
    """
    return float(measurement_var(error, r.n_labels, round_n_eval(r), round_std(r), round_train_noise(r)))


def forecast_from_rounds(
    rounds: list[PilotRound],
    higher_better: bool,
    model: str | None = None,
    learned: LearnedCurveModel | Literal["shipped"] | None = "shipped",
) -> CurveForecast:
    """Fit the forecast (error space) behind a request's pilot rounds.

    A round without ``n_eval`` or ``std`` is assumed measured on :data:`DEFAULT_N_EVAL` items; a future
    measurement is assumed to be like the last round's (averaged over as many runs).

    When the pilot names its ``model`` family or every round gives its ``train_value``, the forecast past
    the pilot is the ``learned`` meta-model's (the shipped one by default; None: the curve families' alone),
    told those signals. Without them the curve families forecast alone, as they did before the signals
    existed, so that plans and quotes of such pilots do not move; grouped cross-validation on LCDB curves
    finds the learned model closer to the truth without the signals too (``benchmarks/curve_cv.py``, see
    ``benchmarks/RESULTS.md``): using it there is a switch for the plans' owners to make.
    """
    values = np.array([r.value for r in rounds])
    errors = 1.0 - values if higher_better else values
    variances = [round_variance(r, e) for e, r in zip(errors, rounds, strict=True)]
    train_errors = None
    if all(r.train_value is not None for r in rounds):
        train = np.array([r.train_value for r in rounds], dtype=float)
        train_errors = 1.0 - train if higher_better else train
    return fit_learning_curve(
        np.array([r.n_labels for r in rounds], dtype=float),
        errors,
        np.sqrt(np.array(variances, dtype=float)),
        obs_n_eval=round_n_eval(rounds[-1]),
        obs_std=round_std(rounds[-1]),
        obs_train_noise=round_train_noise(rounds[-1]),
        train_errors=train_errors,
        model=model,
        learned=(load_learned_model() if isinstance(learned, str) else learned)
        if model is not None or train_errors is not None
        else None,
    )


def predictions(
    forecast: CurveForecast,
    sizes: list[int],
    draws: CurveDraws,
    rng: np.random.Generator,
    higher_better: bool,
) -> list[Prediction]:
    """P10/P50/P90 of the metric a model trained on each of ``sizes`` labels will measure."""
    q_err = forecast.predict_error(np.array(sizes, dtype=float), draws, rng, QUANTILES)
    out = []
    for j, n in enumerate(sizes):
        e10, e50, e90 = (float(v) for v in q_err[:, j])
        lo, mid, hi = (1 - e90, 1 - e50, 1 - e10) if higher_better else (e10, e50, e90)
        out.append(Prediction(n_labels=int(n), p10=lo, p50=mid, p90=hi))
    return out


def pilot_warnings(rounds: list[PilotRound], forecast: CurveForecast) -> list[str]:
    """Plain-language warnings about the pilot itself."""
    out = []
    if len(rounds) < FEW_ROUNDS:
        out.append(
            f"only {len(rounds)} pilot rounds: the curve's shape is barely identified and intervals are "
            f"wide; {FEW_ROUNDS} or more rounds on a doubling grid give a far more reliable forecast"
        )
    e, sd = forecast.errors, forecast.noise_sd
    rises = [
        i for i in range(1, len(e)) if e[i] - np.min(e[:i]) > 2.0 * np.hypot(sd[i], sd[int(np.argmin(e[:i]))])
    ]
    if rises:
        which = ", ".join(f"rounds[{i}]" for i in rises)
        out.append(
            f"the pilot is not monotone: {which} measured clearly worse than an earlier round; the forecast "
            "assumes more labels never hurt, so check those rounds (label noise, a changed evaluation set)"
        )
    if all(r.n_eval is None and r.std is None for r in rounds):
        out.append(
            f"no round gives n_eval or std: measurement noise is assumed binomial on {DEFAULT_N_EVAL} "
            "evaluation items; give n_eval for intervals that fit your evaluation set"
        )
    return out


def default_sizes(rounds: list[PilotRound]) -> list[int]:
    """Where to forecast when the request does not say: the pilot rounds and 2x, 5x, 10x the last."""
    last = rounds[-1].n_labels
    return sorted({r.n_labels for r in rounds} | {2 * last, 5 * last, 10 * last})


def to_int_labels(values: np.ndarray) -> list[int | None]:
    """Labels needed as whole numbers, ``None`` where infinite."""
    return [int(np.ceil(v)) if np.isfinite(v) else None for v in values]


def learned_labels(forecast: CurveForecast, target_error: float, reachable: float) -> list[int | None]:
    """P10/P50/P90 of the labels to reach ``target_error`` by the learned labels model, a target no pilot
    round met: the model answers how many labels a reached target takes, the curve draws how likely it is
    reached at all (``reachable``), so quantile q of the labels is the model's at level q / reachable, and
    never (None) where q exceeds it. At least the pilot's labels."""
    assert forecast.learned is not None
    levels = QUANTILES / max(reachable, 1e-12)
    ratios = forecast.learned.labels_to_reach(np.array([target_error]), np.minimum(levels, 1.0))[0]
    return to_int_labels(np.where(levels <= 1.0, np.maximum(ratios, 1.0) * forecast.n_ref, np.inf))


def never_fewer_for_harder(labels: list[LabelsToReach], higher_better: bool) -> list[LabelsToReach]:
    """The answers with a harder target never needing fewer labels, nor more likely reachable, than an easier
    one: quantiles are raised to the easier targets' (``None``, never, counts as infinite), probabilities
    lowered. A target met by a pilot round beyond its noise is answered with that round, a harder one met only
    within its noise by the forecast: this keeps the two consistent."""
    order = sorted(range(len(labels)), key=lambda i: labels[i].target, reverse=not higher_better)
    out = list(labels)
    floor = {"p10": 0.0, "p50": 0.0, "p90": 0.0}
    reachable = 1.0
    for i in order:
        r = out[i]
        got = {q: np.inf if getattr(r, q) is None else float(getattr(r, q)) for q in floor}
        floor = {q: max(floor[q], got[q]) for q in floor}
        reachable = min(reachable, r.probability_reachable)
        out[i] = LabelsToReach(
            target=r.target,
            **{q: None if np.isinf(v) else int(v) for q, v in floor.items()},
            probability_reachable=reachable,
        )
    return out


def fit_curve(request: FitRequest | dict[str, Any]) -> FitResponse:
    """Forecast the learning curve of a pilot.

    Parameters
    ----------
    request : FitRequest or dict
        ``metric``, ``rounds`` (``n_labels``, ``value``, optional ``n_eval``, ``std``), ``targets`` (metric
        values) and optional ``at_labels`` (label counts to forecast at).

    Returns
    -------
    FitResponse
        ``predictions``: P10/P50/P90 of the metric a model trained on each ``at_labels`` will measure;
        ``labels_to_reach``: P10/P50/P90 of the labels needed for each target and the probability that it is
        reachable at all; ``warnings``.

    Raises
    ------
    InvalidInputError
        naming the offending field.
    """
    return forecast_response(parse_request(FitRequest, request))


def forecast_response(
    req: FitRequest, learned: LearnedCurveModel | Literal["shipped"] | None = "shipped"
) -> FitResponse:
    """:func:`fit_curve` on a validated request, with the ``learned`` meta-model of
    :func:`forecast_from_rounds` (a backtest passes one trained without the curves it scores)."""
    higher_better = higher_is_better(req.metric)
    forecast = forecast_from_rounds(req.rounds, higher_better, req.model, learned)
    rng = np.random.default_rng(SEED)
    draws = forecast.sample(N_DRAWS, rng)
    last = req.rounds[-1].n_labels
    warnings = pilot_warnings(req.rounds, forecast)

    sizes = req.at_labels if req.at_labels is not None else default_sizes(req.rounds)
    forecasts = predictions(forecast, sizes, draws, rng, higher_better) if sizes else []
    far = [n for n in sizes if n > FAR_FACTOR * last]
    if far:
        warnings.append(
            f"forecasts at {', '.join(str(n) for n in far)} labels extrapolate more than "
            f"{FAR_FACTOR:g}x past the last pilot round ({last}): treat them as rough, and refit as rounds "
            "come in"
        )

    labels: list[LabelsToReach] = []
    # each round's measurement noise (error units): a round meets a target only beyond it
    measured_sd = np.sqrt(
        [round_variance(r, float(e)) for r, e in zip(req.rounds, forecast.errors, strict=True)]
    )
    for target in req.targets:
        # a perfect target means reaching the error floor of the forecast
        target_error = max(1.0 - target if higher_better else target, ERROR_MIN)
        met = np.nonzero(forecast.errors <= target_error - MET_Z * measured_sd)[0]
        if met.size:
            # the pilot measured it already, beyond its noise: all the pilot can say is "at or before that
            # round"
            n_met = req.rounds[int(met[0])].n_labels
            labels.append(
                LabelsToReach(target=target, p10=n_met, p50=n_met, p90=n_met, probability_reachable=1.0)
            )
            warnings.append(
                f"the target {target:g} is already met at or before {n_met} labels (rounds[{int(met[0])}] "
                f"measured {req.rounds[int(met[0])].value:g}): labels_to_reach gives {n_met}, an upper bound"
            )
            continue
        within = np.nonzero(forecast.errors <= target_error)[0]
        if within.size:
            # a round met it by less than its noise: the true curve may not be there yet, and the forecast's
            # curve (fitted to every round) says where it gets there, from the first round on
            k = int(within[0])
            need = np.maximum(draws.labels_to_reach(target_error), req.rounds[0].n_labels)
            warnings.append(
                f"the target {target:g} is met by rounds[{k}] (measured {req.rounds[k].value:g}) only within "
                "its measurement noise: labels_to_reach is the forecast's, which may be more labels"
            )
        else:
            # not met by any pilot round, the last included: it needs at least the labels the pilot had
            need = np.maximum(draws.labels_to_reach(target_error), last)
        # labels are counted, not interpolated: an infinite draw ("never") stays a quantile of its own
        p10, p50, p90 = to_int_labels(np.quantile(need, QUANTILES, method="inverted_cdf"))
        if not within.size and forecast.learned is not None:
            p10, p50, p90 = learned_labels(forecast, target_error, float(np.isfinite(need).mean()))
        labels.append(
            LabelsToReach(
                target=target,
                p10=p10,
                p50=p50,
                p90=p90,
                probability_reachable=float(np.isfinite(need).mean()),
            )
        )
        if p50 is not None and p50 > FAR_FACTOR * last:
            warnings.append(
                f"reaching {target:g} needs ~{p50} labels (P50), more than {FAR_FACTOR:g}x the last "
                f"pilot round ({last}): an extrapolation far past the pilot"
            )

    labels = never_fewer_for_harder(labels, higher_better)
    return FitResponse(
        metric=metric_name(req.metric),
        predictions=forecasts,
        labels_to_reach=labels,
        families={
            f.family.name: round(float(w), 4) for f, w in zip(forecast.fits, forecast.weights, strict=True)
        },
        warnings=warnings,
    )
