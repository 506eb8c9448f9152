"""``annoplan replay DATA --plan PLAN.json`` (or ``--quote QUOTE.json``): run the policy a plan or a quote
priced, from its start labels, and set what really happened beside the forecast.

The policy object (``planner.schemas.policy.Policy``) maps onto :func:`simulators.replay.replay_pool`'s
settings one to one (:func:`replay_settings`); the start labels are random items of the data set, labeled
before round 1 (:func:`split_start`). The comparison is a list of rows, one per quantity, with the forecast's
P10, P50 and P90 and the replay's value (:func:`side_by_side`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from annoplan.planner.schemas.policy import Policy
from annoplan.simulators.costs import RateCard
from annoplan.simulators.replay import REPLAY_POLICIES, ReplayResult

__all__ = ["PricedPolicy", "replay_settings", "side_by_side", "split_start"]

#: the replay policy that runs each planned strategy
REPLAY_POLICY = {cls.plan_strategy: name for name, cls in REPLAY_POLICIES.items()}


@dataclass(frozen=True)
class PricedPolicy:
    """A policy and what its document forecast: ``kind`` is ``plan`` or ``quote``; ``forecast`` the plan's
    strategy forecast or the quote itself (plain JSON), ``currency`` its currency."""

    kind: str
    policy: Policy
    forecast: dict[str, Any]
    currency: str
    rate_card: dict[str, Any] | None


def replay_settings(policy: Policy) -> dict[str, Any]:
    """Keyword arguments of :func:`simulators.replay.replay_pool` that run ``policy`` (data, start labels,
    rate card and seed aside)."""
    audit = policy.lot_audit
    return {
        "policy": REPLAY_POLICY[policy.strategy],
        "strategy": "least_confidence",
        "batch_size": policy.batch_size,
        "confidence_threshold": policy.confidence_threshold
        if policy.confidence_threshold is not None
        else 1.0,
        "max_label_error": audit.max_label_error if audit is not None else None,
        "delta": audit.delta if audit is not None else 0.05,
        "max_labels": policy.human_label_cap,
    }


def split_start(n_items: int, start_labels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows labeled before round 1 (``start_labels`` random ones) and the rest, sorted (seeded)."""
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(n_items)
    return np.sort(order[:start_labels]), np.sort(order[start_labels:])


def _money(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def side_by_side(priced: PricedPolicy, result: ReplayResult) -> list[dict[str, Any]]:
    """One row per quantity: the forecast's P10, P50 and P90 (None where the document has none) and what
    the replay did (counts in items; money in the document's currency; label error as a share)."""
    f = priced.forecast
    rows: list[dict[str, Any]] = []

    def add(name: str, q: dict[str, Any] | None, real: float | None, money: bool = False) -> None:
        values = {
            k: (None if q is None else (_money(q[k]) if money else q[k])) for k in ("p10", "p50", "p90")
        }
        rows.append({"quantity": name, **values, "replay": real})

    if priced.kind == "plan":
        add("cost", f["cost"], result.cost, money=True)
        add("human labels", f["human_labels"], result.human_labels)
        add("reviews", f["reviews"], result.reviews)
        add("corrections", f["corrections"], result.corrections)
        add("auto-accepted", f["auto_accepted"], result.auto_accepted)
        add("audits", f["audits"], result.audits)
        add("rounds", f["rounds"], result.rounds)
        add("label error", f["label_error"], result.label_error)
        return rows
    ppc, ppa = _money(f["price_per_correction"]), _money(f["price_per_audit"])
    bill = None if ppc is None or ppa is None else ppc * result.corrections + ppa * result.audits
    add("client bill", f["client_bill"], bill, money=True)
    add("vendor cost", f["vendor_cost"] if priced.rate_card is not None else None, result.cost, money=True)
    add("corrections", f["expected_corrections"], result.corrections)
    add("reviews", f["reviews"], result.reviews)
    add("auto-accepted", f["auto_accepted"], result.auto_accepted)
    add("audits", f["audits"], result.audits)
    add("rounds", f["rounds"], result.rounds)
    add("label error", f["label_error"], result.label_error)
    return rows


def rate_card_of(priced: PricedPolicy, given: RateCard | None) -> RateCard:
    """The prices the replay counts with: ``--costs`` when given, else the plan's own rate card; the audit
    share is always the policy's."""
    if given is not None:
        card = given
    elif priced.rate_card is not None:
        card = RateCard.from_mapping({k: v for k, v in priced.rate_card.items() if k != "currency"})
    else:
        card = RateCard()
    return RateCard.from_mapping({**card.to_dict(), "audit_rate": priced.policy.audit_rate})
