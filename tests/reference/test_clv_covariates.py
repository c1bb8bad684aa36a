"""BG/NBD, Pareto/NBD and Gamma-Gamma with covariates against an independent optimiser: scipy's
BFGS on the same likelihoods written here with numpy and scipy.special, to 1e-6.

Runs in the reference environment (``make test-reference``), which has scipy (through
lifelines). The likelihoods are written from the models' definitions (Fader, Hardie & Lee 2005;
Fader & Hardie's note on the Pareto/NBD; Colombo & Jiang's Gamma-Gamma) with the covariates of
docs/metrics/clv.md, not from csmetrics' code.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import integrate, optimize, special

from csmetrics import clv

TOLERANCE = 1e-6


def _simulated(seed: int, customers: int = 3000) -> pl.DataFrame:
    """BG/NBD customers; segment "b" buys faster and drops out more; spend by segment."""
    rng = np.random.default_rng(seed)
    segment = np.where(np.arange(customers) % 3 == 0, "b", "a")
    tenure = rng.uniform(-1, 1, customers)
    is_b = (segment == "b").astype(float)
    alpha = 6.0 * np.exp(-0.7 * is_b + 0.4 * tenure)
    a = 0.7 * np.exp(0.5 * is_b)
    lam = rng.gamma(0.8, 1.0, customers) / alpha
    p = rng.beta(a, 2.5)
    horizon = 30.0 + np.arange(customers) % 20
    x = np.zeros(customers)
    last = np.zeros(customers)
    for i in range(customers):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon[i]:
                break
            x[i] += 1
            last[i] = t
            if rng.uniform() < p[i]:
                break
    # Mean repeat spend: Gamma(p x, nu) with nu ~ Gamma(q, gamma_i), gamma_i by segment.
    nu = rng.gamma(3.5, 1 / (12.0 * np.exp(0.3 * is_b)))
    value = np.where(x > 0, rng.gamma(np.maximum(6.0 * x, 1e-9), 1 / nu) / np.maximum(x, 1), 0.0)
    return pl.DataFrame(
        {
            "frequency": x,
            "recency": last,
            "T": horizon,
            "segment": segment,
            "tenure": tenure,
            "monetary_value": value,
        }
    )


def _bg_ll(theta: np.ndarray, x, tx, T, px, dz) -> float:
    r, alpha0, a0, b0 = np.exp(theta[:4])
    k = px.shape[1]
    gp, ga, gb = theta[4 : 4 + k], theta[4 + k : 4 + k + dz.shape[1]], theta[4 + k + dz.shape[1] :]
    alpha = alpha0 * np.exp(-(px @ gp))
    a = a0 * np.exp(dz @ ga)
    b = b0 * np.exp(dz @ gb)
    lead = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    lead += special.betaln(a, b + x) - special.betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dead = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return float(np.sum(lead + np.logaddexp(alive, dead)))


def _pareto_ll(theta: np.ndarray, x, tx, T, px, dz) -> float:
    r, alpha0, s, beta0 = np.exp(theta[:4])
    k = px.shape[1]
    alpha = alpha0 * np.exp(-(px @ theta[4 : 4 + k]))
    beta = beta0 * np.exp(-(dz @ theta[4 + k :]))
    total = 0.0
    for i in range(len(x)):
        lead = special.gammaln(r + x[i]) - special.gammaln(r) + r * np.log(alpha[i])
        lead += s * np.log(beta[i])
        alive = (alpha[i] + T[i]) ** -(r + x[i]) * (beta[i] + T[i]) ** -s
        # The death term as the integral it is: s int_tx^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du.
        died = (
            s
            * integrate.quad(
                lambda u, i=i: (alpha[i] + u) ** -(r + x[i]) * (beta[i] + u) ** -(s + 1),
                tx[i],
                T[i],
                epsabs=0,
                epsrel=1e-13,
            )[0]
        )
        total += lead + np.log(alive + died)
    return float(total)


def _gg_ll(theta: np.ndarray, x, m, sx) -> float:
    p, q, gamma0 = np.exp(theta[:3])
    gamma = gamma0 * np.exp(sx @ theta[3:])
    return float(
        np.sum(
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x)
        )
    )


def _scipy_fit(ll, start: np.ndarray, *args) -> np.ndarray:
    """BFGS on the negative log-likelihood with central-difference gradients (accurate to about
    1e-10 relative, which the 1e-6 agreement needs), run twice to settle the last digits."""
    theta = start
    for gtol in (1e-6, 1e-9):
        theta = optimize.minimize(
            lambda th: -ll(th, *args),
            theta,
            method="BFGS",
            jac="3-point",
            options={"gtol": gtol, "maxiter": 10_000},
        ).x
    return theta


def _ours(model, data: pl.DataFrame) -> np.ndarray:
    logs = [np.log(v) for v in model.params_.values()]
    return np.array([*logs, *model.coefficients_.values()])


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return _simulated(20261208)


def test_bg_nbd_with_covariates_agrees_with_scipy(data: pl.DataFrame) -> None:
    model = clv.BetaGeo().fit(
        data, purchase_covariates=["segment", "tenure"], dropout_covariates=["segment"]
    )
    assert list(model.coefficients_) == [
        "alpha:segment[b]",
        "alpha:tenure",
        "a:segment[b]",
        "b:segment[b]",
    ]
    is_b = (data["segment"] == "b").cast(pl.Float64).to_numpy()
    px = np.column_stack([is_b, data["tenure"].to_numpy()])
    dz = is_b[:, None]
    args = (data["frequency"].to_numpy(), data["recency"].to_numpy(), data["T"].to_numpy())
    start = np.array([0.0, 1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0])
    reference = _scipy_fit(_bg_ll, start, *args, px, dz)
    ours = _ours(model, data)
    np.testing.assert_allclose(ours, reference, rtol=TOLERANCE, atol=TOLERANCE)
    assert model.log_likelihood_ == pytest.approx(_bg_ll(ours, *args, px, dz), rel=1e-12)
    assert _bg_ll(ours, *args, px, dz) >= _bg_ll(reference, *args, px, dz) - 1e-9


def test_pareto_nbd_with_covariates_agrees_with_scipy(data: pl.DataFrame) -> None:
    small = data.head(600)
    model = clv.ParetoNBD().fit(small, purchase_covariates="segment", dropout_covariates="tenure")
    assert list(model.coefficients_) == ["alpha:segment[b]", "beta:tenure"]
    px = (small["segment"] == "b").cast(pl.Float64).to_numpy()[:, None]
    dz = small["tenure"].to_numpy()[:, None]
    args = (small["frequency"].to_numpy(), small["recency"].to_numpy(), small["T"].to_numpy())
    start = np.array([0.0, 2.0, 0.0, 2.0, 0.0, 0.0])
    reference = _scipy_fit(_pareto_ll, start, *args, px, dz)
    ours = _ours(model, small)
    # The Pareto/NBD likelihood is flat in beta: compare the log-likelihoods first.
    assert -_pareto_ll(reference, *args, px, dz) == pytest.approx(
        -_pareto_ll(ours, *args, px, dz), rel=1e-9
    )
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)


def test_gamma_gamma_with_covariates_agrees_with_scipy(data: pl.DataFrame) -> None:
    model = clv.GammaGamma().fit(data, covariates=["segment"])
    assert list(model.coefficients_) == ["gamma:segment[b]"]
    repeat = data.filter(pl.col("frequency") > 0)
    sx = (repeat["segment"] == "b").cast(pl.Float64).to_numpy()[:, None]
    args = (repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy(), sx)
    reference = _scipy_fit(_gg_ll, np.array([0.0, 0.5, 2.0, 0.0]), *args)
    np.testing.assert_allclose(_ours(model, data), reference, rtol=TOLERANCE, atol=TOLERANCE)
    assert model.log_likelihood_ == pytest.approx(_gg_ll(reference, *args), rel=1e-10)
