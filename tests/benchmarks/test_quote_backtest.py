"""The quote backtest bills the replay at the two-part price too, where the quote offers one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

from benchmarks.quote_backtest import MARGIN, backtest, print_two_part


@pytest.fixture(scope="module")
def easy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # well separated classes: most routed pre-labels are right, so reviews outnumber corrections and the
    # quote offers a two-part price
    X, y = make_classification(n_samples=6000, n_features=10, n_informative=6, class_sep=2.0, random_state=3)
    path = tmp_path_factory.mktemp("quote") / "easy.npz"
    np.savez(path, X=X.astype(np.float32), y=y.astype(np.int32))
    return path


def test_the_replay_is_billed_at_the_two_part_price_and_its_break_even(easy_data: Path) -> None:
    r = backtest(easy_data, seed=0, draws=300)
    assert r.status == "quoted" and r.two_part is not None
    assert r.reviews is not None and r.corrections is not None and r.audits is not None
    assert r.reviews > r.corrections
    routed, per_correction = r.two_part
    assert r.price_per_audit is not None and r.cost is not None and r.two_part_break_even is not None
    bill = (
        routed * (r.reviews + r.corrections) + per_correction * r.corrections + r.price_per_audit * r.audits
    )
    assert r.two_part_revenue == pytest.approx(bill)
    # at the break-even price per correction the two-part bill is the cost plus the margin, to the cent
    at_break_even = (
        routed * (r.reviews + r.corrections)
        + r.two_part_break_even * r.corrections
        + r.price_per_audit * r.audits
    )
    assert at_break_even == pytest.approx(r.cost * (1 + MARGIN))
    assert r.two_part_margin_reached == (r.two_part_price_ratio >= 1.0)
    assert r.two_part_margin == pytest.approx(bill / r.cost - 1)


def test_the_summary_counts_only_quotes_offering_a_two_part_price(
    easy_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = backtest(easy_data, seed=0, draws=300)
    assert r.two_part is not None and r.cost is not None
    # the same replay billed below its cost at the two-part price: margin not reached
    short = replace(r, dataset="short", two_part_revenue=0.5 * r.cost)
    without = replace(r, dataset="plain", two_part=None, two_part_revenue=None, two_part_break_even=None)
    print_two_part([r, short, without])
    line = capsys.readouterr().out
    assert "offered: 2 of 3 quotes (easy, short)" in line
    assert "margin reached 50%" in line
    print_two_part([without])
    assert capsys.readouterr().out.strip() == "two-part prices offered: none"
