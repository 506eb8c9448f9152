"""Small generated data sets and a rate card with every price non-zero, for the replay tests."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from annoplan.simulators.costs import RateCard


@pytest.fixture(scope="session")
def classification_data() -> tuple[np.ndarray, np.ndarray]:
    """1,200 items, 8 features, 3 classes: fits in milliseconds, hard enough to leave errors."""
    X, y = make_classification(
        n_samples=1200,
        n_features=8,
        n_informative=5,
        n_redundant=1,
        n_classes=3,
        class_sep=1.2,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="session")
def separable_data() -> tuple[np.ndarray, np.ndarray]:
    """Uniform points split by a hyperplane: where labeling near the boundary pays off."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(2000, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


@pytest.fixture
def rate_card() -> RateCard:
    """Distinct non-zero prices, so that a cost identity cannot hold by accident."""
    return RateCard(
        label=1.0,
        review=0.3,
        correction=1.7,
        audit=0.45,
        audit_rate=0.1,
        platform_fee=0.05,
        round_overhead=7.0,
    )
