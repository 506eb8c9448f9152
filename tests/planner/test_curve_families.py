"""Contract checks run over every registered curve family (a new family is covered once registered).

Every family models ``error(x) = c + a * basis(x, shape)`` in error space, with ``basis(1) = 1`` and a basis
non-increasing in ``x``; ``error`` is vectorised over leading axes of ``theta``; ``x_for_error`` inverts it;
``fit_family`` recovers a curve from noiseless data.
"""

from __future__ import annotations

import numpy as np
import pytest

import annoplan.planner.curves.families as families_module
from annoplan.planner.curves import FAMILIES, CurveFamily, fit_family

FAMILY_LIST = list(FAMILIES.values())
#: relative sizes on which the basis must be non-increasing (the forecast evaluates 1e-3 .. 1e5)
X_WIDE = np.geomspace(1e-3, 1e5, 161)
#: five pilot rounds on a doubling grid, as relative sizes (the last round is x = 1)
X_PILOT = np.geomspace(1 / 16, 1.0, 5)


@pytest.fixture(params=FAMILY_LIST, ids=lambda f: f.name)
def family(request: pytest.FixtureRequest) -> type[CurveFamily]:
    return request.param


def interior_shape(family: type[CurveFamily], position: float) -> np.ndarray:
    """A grid point at ``position`` (0..1) along every shape grid, kept off both ends."""
    out = []
    for g in family.shape_grid:
        i = round(position * (len(g) - 1))
        out.append(g[min(max(i, 1), len(g) - 2)])
    return np.array(out)


def make_theta(family: type[CurveFamily], shape: np.ndarray, a: float = 0.3, c: float = 0.05) -> np.ndarray:
    return np.r_[a, c if family.has_floor else 0.0, shape]


def sample_thetas(family: type[CurveFamily], n: int, seed: int) -> np.ndarray:
    """``n`` parameter vectors: random amplitude and floor, random points of the shape grid."""
    rng = np.random.default_rng(seed)
    grid = family.grid()
    a = rng.uniform(0.05, 0.6, n)
    c = rng.uniform(0.0, 0.2, n) if family.has_floor else np.zeros(n)
    return np.column_stack([a, c, grid[rng.integers(0, len(grid), n)]])


def test_registry_keys_are_family_names() -> None:
    assert FAMILIES, "no curve family registered"
    for name, fam in FAMILIES.items():
        assert fam.name == name
        assert issubclass(fam, CurveFamily)


def test_declaring_a_subclass_registers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    scratch: dict[str, type[CurveFamily]] = dict(FAMILIES)
    monkeypatch.setattr(families_module, "FAMILIES", scratch)

    class Hyperbolic(CurveFamily):
        name = "test_hyperbolic"
        shape_names = ("b",)
        shape_grid = (np.geomspace(0.1, 2.0, 5),)

        @classmethod
        def basis(cls, x: np.ndarray, shape: np.ndarray) -> np.ndarray:
            return 1.0 / (1.0 + shape[..., :1] * (x - 1.0))

    assert scratch["test_hyperbolic"] is Hyperbolic
    assert "test_hyperbolic" not in FAMILIES


def test_a_grid_per_shape_parameter_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(families_module, "FAMILIES", dict(FAMILIES))
    with pytest.raises(TypeError, match="grid"):

        class Broken(CurveFamily):
            name = "test_broken"
            shape_names = ("b", "d")
            shape_grid = (np.geomspace(0.1, 2.0, 5),)


def test_declaration_is_consistent(family: type[CurveFamily]) -> None:
    lo, hi = family.bounds()
    n_shape = len(family.shape_names)
    assert family.param_names() == ("a", "c", *family.shape_names)
    assert lo.shape == hi.shape == (2 + n_shape,)
    assert np.all(lo <= hi)
    assert (lo[0], hi[0]) == (0.0, 1.0)
    assert lo[1] == 0.0
    assert hi[1] == (1.0 if family.has_floor else 0.0)
    assert family.prior_weight > 0
    for i, g in enumerate(family.shape_grid):
        assert g.ndim == 1 and len(g) >= 3
        assert np.all(np.isfinite(g)) and np.all(np.diff(g) > 0), f"grid of {family.shape_names[i]}"
        assert (lo[2 + i], hi[2 + i]) == (g.min(), g.max())
    grid = family.grid()
    assert grid.shape == (int(np.prod([len(g) for g in family.shape_grid])), n_shape)


def test_basis_is_one_at_the_last_pilot_round(family: type[CurveFamily]) -> None:
    g = family.basis(np.array([1.0]), family.grid())
    assert g.shape == (len(family.grid()), 1)
    np.testing.assert_allclose(g, 1.0, rtol=1e-12)


def test_basis_is_finite_non_negative_and_non_increasing(family: type[CurveFamily]) -> None:
    g = family.basis(X_WIDE, family.grid())
    assert g.shape == (len(family.grid()), len(X_WIDE))
    assert np.all(np.isfinite(g))
    assert np.all(g >= 0.0)
    rise = np.diff(g, axis=-1)
    worst = np.unravel_index(np.argmax(rise), rise.shape)
    assert np.all(rise <= 1e-12 * np.maximum(g[:, :-1], 1.0)), (
        f"basis increases at shape {family.grid()[worst[0]]}, x={X_WIDE[worst[1]]:.4g}"
    )


def test_error_is_vectorised(family: type[CurveFamily]) -> None:
    thetas = sample_thetas(family, 6, seed=1)
    x = np.array([0.1, 0.5, 1.0, 2.0, 10.0])

    one = family.error(x, thetas[0])
    assert one.shape == (len(x),)
    np.testing.assert_allclose(
        one, thetas[0, 1] + thetas[0, 0] * family.basis(x, thetas[0, 2:]), rtol=1e-12, atol=1e-15
    )

    many = family.error(x, thetas)
    assert many.shape == (len(thetas), len(x))
    for d, theta in enumerate(thetas):
        np.testing.assert_allclose(many[d], family.error(x, theta), rtol=1e-12, atol=1e-15)

    # one size per row: x of shape (D, 1) pairs row d of x with row d of theta
    row_x = np.array([0.3, 1.0, 1.7, 4.0, 25.0, 300.0])[:, None]
    rowwise = family.error(row_x, thetas)
    assert rowwise.shape == (len(thetas), 1)
    for d, theta in enumerate(thetas):
        np.testing.assert_allclose(rowwise[d, 0], family.error(row_x[d], theta)[0], rtol=1e-12, atol=1e-15)


def test_error_at_the_last_round_is_floor_plus_amplitude(family: type[CurveFamily]) -> None:
    thetas = sample_thetas(family, 8, seed=2)
    np.testing.assert_allclose(family.error(np.array([1.0]), thetas)[:, 0], thetas[:, 0] + thetas[:, 1])


def test_x_for_error_inverts_error(family: type[CurveFamily]) -> None:
    thetas = sample_thetas(family, 40, seed=3)
    rng = np.random.default_rng(4)
    x_true = np.exp(rng.uniform(np.log(1e-3), np.log(1e4), len(thetas)))
    target = family.error(x_true[:, None], thetas)[:, 0]

    x = family.x_for_error(target, thetas)
    assert x.shape == (len(thetas),)
    assert np.all(np.isfinite(x))
    # the smallest size that gets there: never past a size known to get there ...
    assert np.all(x <= x_true * (1 + 1e-9))
    # ... and it does get there: the error at the returned size is <= the target, and equal to it
    reached = family.error(x[:, None], thetas)[:, 0]
    assert np.all(reached <= target)
    np.testing.assert_allclose(reached, target, rtol=1e-6, atol=1e-9)


def test_x_for_error_is_infinite_below_the_asymptote(family: type[CurveFamily]) -> None:
    thetas = sample_thetas(family, 20, seed=5)
    floor = thetas[:, 1]
    below = floor - 0.01
    assert np.all(np.isinf(family.x_for_error(below, thetas)))
    if family.has_floor:
        assert np.all(floor > 0)
        assert np.all(np.isinf(family.x_for_error(0.5 * floor, thetas)))


def test_x_for_error_keeps_leading_axes(family: type[CurveFamily]) -> None:
    thetas = sample_thetas(family, 6, seed=6).reshape(2, 3, -1)
    target = family.error(np.array([3.0]), thetas)[..., 0]
    x = family.x_for_error(target, thetas)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(family.error(x[..., None], thetas)[..., 0], target, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("position", [0.3, 0.5, 0.7])
def test_fit_recovers_a_noiseless_curve(family: type[CurveFamily], position: float) -> None:
    theta = make_theta(family, interior_shape(family, position))
    errors = family.error(X_PILOT, theta)
    fit = fit_family(family, X_PILOT, errors, np.full(len(X_PILOT), 1e-3))

    assert fit.family is family
    assert fit.theta.shape == theta.shape
    np.testing.assert_allclose(fit.error(X_PILOT), errors, atol=1e-3)
    np.testing.assert_allclose(fit.error(np.array([2.0])), family.error(np.array([2.0]), theta), atol=4e-3)
    assert fit.chi2 >= 0.0
    assert fit.chi2 < 1.0  # noiseless data: a residual well under one noise sd in total
    # the parameters themselves where they are identified: at small exponents c + a * g is nearly linear in
    # log x over the pilot, so (a, c, shape) trade off and the ridge picks the smallest amplitude
    if len(family.shape_names) == 1 and position >= 0.5:
        np.testing.assert_allclose(fit.theta[2], theta[2], rtol=0.02)
        np.testing.assert_allclose(fit.theta[:2], theta[:2], atol=0.01)


@pytest.mark.parametrize("slope", [0.3, 0.05, 1.5, 0.0])
def test_fit_stays_within_bounds(family: type[CurveFamily], slope: float) -> None:
    """Clean, nearly flat, steep and flat noisy pilots: some push the fit against the edges of the grid."""
    rng = np.random.default_rng(8)
    noise = np.exp(rng.normal(0.0, 0.1 if slope in (0.05, 0.0) else 0.0, len(X_PILOT)))
    errors = np.clip(0.3 * (X_PILOT * 16) ** -slope * noise, 0, 1)
    fit = fit_family(family, X_PILOT, errors, np.full(len(X_PILOT), 0.01))
    lo, hi = family.bounds()
    assert np.all(np.isfinite(fit.theta))
    assert np.all(fit.theta >= lo), fit.theta - lo
    assert np.all(fit.theta <= hi), fit.theta - hi
    if not family.has_floor:
        assert fit.theta[1] == 0.0


def test_fit_error_matches_the_family_formula(family: type[CurveFamily]) -> None:
    rng = np.random.default_rng(7)
    errors = np.clip(0.35 * (X_PILOT * 16) ** -0.3 * np.exp(rng.normal(0.0, 0.05, len(X_PILOT))), 0, 1)
    fit = fit_family(family, X_PILOT, errors, np.full(len(X_PILOT), 0.01))
    x = np.array([0.5, 1.0, 3.0])
    np.testing.assert_array_equal(fit.error(x), family.error(x, fit.theta))
    # the fit follows a clean decreasing pilot: within a few noise sds at every round
    assert np.max(np.abs(fit.error(X_PILOT) - errors)) < 0.05


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=lambda f: f.name)
def test_param_names_are_unique(family: type[CurveFamily]) -> None:
    names = family.param_names()
    assert len(set(names)) == len(names), f"{family.name}: parameter names {names} repeat"


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=lambda f: f.name)
def test_fit_of_a_collapsing_pilot_stays_within_bounds(family: type[CurveFamily]) -> None:
    x = np.array([0.125, 0.25, 0.5, 1.0])
    errors = np.array([0.36, 0.81, 0.94, 0.98])  # accuracy 0.64, 0.19, 0.06, 0.02
    fit = fit_family(family, x, errors, np.full(4, 0.01))
    lo, hi = family.bounds()
    assert np.all(fit.theta >= lo) and np.all(fit.theta <= hi), fit.theta
