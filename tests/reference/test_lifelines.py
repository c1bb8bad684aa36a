"""Survival estimates against lifelines 0.30.3, to 1e-9.

Runs in its own environment (``make test-reference``: lifelines needs pandas < 3). Datasets:
hand-sized ties with censoring at event times, integer durations with heavy ties, continuous
durations, left truncation (Kaplan-Meier and Nelson-Aalen), integer and fractional weights, and
groups (one lifelines fit per group).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from pathlib import Path

# The reference must be there: without lifelines this suite fails at import, never skips.
import lifelines
import numpy as np
import pandas as pd
import polars as pl
import pytest
from lifelines import KaplanMeierFitter, NelsonAalenFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times, restricted_mean_survival_time

import csmetrics as csm

TOLERANCE = 1e-9


def _dataset(name: str) -> pl.DataFrame:
    rng = np.random.default_rng(sum(map(ord, name)))  # a fixed seed per dataset
    if name == "small_ties":
        return pl.DataFrame(
            {
                "duration": [1, 2, 2, 3, 4, 4, 5, 5, 5, 8, 8, 9],
                "event": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1],
            }
        )
    if name == "integer_ties":
        n = 600
        return pl.DataFrame(
            {
                "duration": rng.integers(0, 40, n),
                "event": rng.random(n) < 0.7,
            }
        )
    if name == "continuous":
        n = 400
        life = rng.exponential(12.0, n)
        cutoff = rng.uniform(0, 30, n)
        return pl.DataFrame(
            {"duration": np.minimum(life, cutoff), "event": (life <= cutoff).astype(np.int64)}
        )
    if name == "left_truncated":
        n = 500
        duration = rng.integers(1, 50, n).astype(float)
        late = rng.random(n) < 0.4
        entry = np.where(late, np.floor(rng.uniform(0, 1, n) * duration), 0.0)
        return pl.DataFrame({"duration": duration, "event": rng.random(n) < 0.6, "entry": entry})
    if name == "integer_weights":
        n = 300
        return pl.DataFrame(
            {
                "duration": rng.integers(0, 25, n),
                "event": rng.random(n) < 0.6,
                "weight": rng.integers(0, 5, n).astype(float),
            }
        )
    if name == "fractional_weights":
        n = 300
        return pl.DataFrame(
            {
                "duration": rng.integers(1, 25, n).astype(float),
                "event": rng.random(n) < 0.6,
                "weight": rng.uniform(0.1, 3.0, n),
            }
        )
    raise ValueError(name)


KM_DATASETS = [
    ("small_ties", None, None),
    ("integer_ties", None, None),
    ("continuous", None, None),
    ("left_truncated", "entry", None),
    ("integer_weights", None, "weight"),
    ("fractional_weights", None, "weight"),
]


def _fit_km(frame: pl.DataFrame, entry: str | None, weights: str | None) -> KaplanMeierFitter:
    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        # lifelines warns that fractional weights look like propensity scores; expected here.
        warnings.filterwarnings("ignore", message="It looks like your weights are not integers")
        kmf.fit(
            frame["duration"].to_numpy(),
            frame["event"].cast(pl.Int64).to_numpy(),
            entry=None if entry is None else frame[entry].to_numpy(),
            weights=None if weights is None else frame[weights].to_numpy(),
        )
    return kmf


LARGEST_DIFFERENCE = [0.0]  # over the whole run, for the record (pytest -s shows it)


def _close(ours: np.ndarray, theirs: np.ndarray) -> None:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    difference = np.abs(ours - theirs)
    assert np.all(difference <= TOLERANCE), f"max difference {difference.max()}"
    LARGEST_DIFFERENCE[0] = max(LARGEST_DIFFERENCE[0], float(difference.max(initial=0.0)))


def _without_zero_weight_times(kmf: KaplanMeierFitter, weights: pl.Series | None) -> np.ndarray:
    """lifelines keeps a time point made only of weight-0 lives; csmetrics does not."""
    table = kmf.event_table
    if weights is None:
        return np.ones(len(table), dtype=bool)
    return ((table["removed"] > 0) | (table["entrance"] > 0)).to_numpy()


@pytest.mark.parametrize(("name", "entry", "weights"), KM_DATASETS)
def test_kaplan_meier_agrees(name: str, entry: str | None, weights: str | None) -> None:
    frame = _dataset(name)
    kmf = _fit_km(frame, entry, weights)
    ours = csm.kaplan_meier(frame, entry=entry, weights=weights)
    keep = _without_zero_weight_times(kmf, None if weights is None else frame[weights])
    table = kmf.event_table[keep]
    _close(ours["time"].to_numpy(), kmf.timeline[keep])
    _close(ours["survival"].to_numpy(), kmf.survival_function_.iloc[:, 0].to_numpy()[keep])
    # lifelines' event table counts late entrants at their own entry time; its estimator (and
    # csmetrics' at_risk) does not, except at the first time.
    risk = (table["at_risk"] - table["entrance"]).to_numpy()
    risk[0] = table["at_risk"].iloc[0]
    _close(ours["at_risk"].to_numpy(), risk)
    survival = kmf.survival_function_.iloc[:, 0].to_numpy()[keep]
    if name == "fractional_weights":
        # lifelines 0.30.3 truncates the at-risk count to an integer (uint64) inside Greenwood's
        # sum; csmetrics keeps the weighted count. Check the bounds against Greenwood's formula
        # on lifelines' own event table and survival instead.
        deaths = table["observed"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = deaths / (risk * (risk - deaths))
        greenwood = np.cumsum(np.where(np.isinf(terms), 0.0, terms))
        log_s = np.log(survival)
        z = 1.959963984540054
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.exp(-np.exp(np.log(-log_s) - z * np.sqrt(greenwood) / log_s))
            upper = np.exp(-np.exp(np.log(-log_s) + z * np.sqrt(greenwood) / log_s))
        lower, upper = np.nan_to_num(lower, nan=1.0), np.nan_to_num(upper, nan=1.0)
    else:
        greenwood = np.asarray(kmf._cumulative_sq_)[keep]
        bounds = kmf.confidence_interval_survival_function_
        lower, upper = bounds.iloc[:, 0].to_numpy()[keep], bounds.iloc[:, 1].to_numpy()[keep]
    _close(ours["lower"].to_numpy(), lower)
    _close(ours["upper"].to_numpy(), upper)
    _close(ours["variance"].to_numpy(), survival**2 * greenwood)
    _close(ours["events"].to_numpy(), table["observed"].to_numpy())
    _close(ours["entered"].to_numpy(), table["entrance"].to_numpy())
    if weights is None:
        _close(ours["censored"].to_numpy(), table["censored"].to_numpy())

    summary = csm.kaplan_meier_summary(frame, entry=entry, weights=weights)
    median = summary["median"][0]
    expected = kmf.median_survival_time_
    assert (median is None and math.isinf(expected)) or abs(median - expected) <= TOLERANCE
    if name != "fractional_weights":  # the median's interval rests on the bounds (see above)
        interval = median_survival_times(kmf.confidence_interval_)
        for ours_bound, theirs_bound in zip(
            (summary["median_lower"][0], summary["median_upper"][0]), interval.iloc[0], strict=True
        ):
            assert (ours_bound is None and math.isinf(theirs_bound)) or abs(
                ours_bound - theirs_bound
            ) <= TOLERANCE
    if entry is None:  # lifelines integrates from its first time, which is 0 without entry
        tau = summary["tau"][0]
        _close(summary["rmst"].to_numpy(), [restricted_mean_survival_time(kmf, t=tau)])
        short = csm.kaplan_meier_summary(frame, weights=weights, tau=tau / 3)
        _close(short["rmst"].to_numpy(), [restricted_mean_survival_time(kmf, t=tau / 3)])


NA_DATASETS = [
    ("small_ties", None, None, "sequential"),
    ("small_ties", None, None, "textbook"),
    ("integer_ties", None, None, "sequential"),
    ("integer_ties", None, None, "textbook"),
    ("continuous", None, None, "sequential"),
    ("left_truncated", "entry", None, "sequential"),
    ("left_truncated", "entry", None, "textbook"),
    ("integer_weights", None, "weight", "sequential"),
    ("fractional_weights", None, "weight", "textbook"),
]


@pytest.mark.parametrize(("name", "entry", "weights", "ties"), NA_DATASETS)
def test_nelson_aalen_agrees(name: str, entry: str | None, weights: str | None, ties: str) -> None:
    frame = _dataset(name)
    naf = NelsonAalenFitter(nelson_aalen_smoothing=ties == "sequential")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="It looks like your weights are not integers")
        naf.fit(
            frame["duration"].to_numpy(),
            frame["event"].cast(pl.Int64).to_numpy(),
            entry=None if entry is None else frame[entry].to_numpy(),
            weights=None if weights is None else frame[weights].to_numpy(),
        )
    ours = csm.nelson_aalen(frame, entry=entry, weights=weights, ties=ties)  # type: ignore[arg-type]
    table = naf.event_table
    keep = (
        np.ones(len(table), dtype=bool)
        if weights is None
        else ((table["removed"] > 0) | (table["entrance"] > 0)).to_numpy()
    )
    _close(ours["time"].to_numpy(), naf.timeline[keep])
    _close(ours["cumulative_hazard"].to_numpy(), naf.cumulative_hazard_.iloc[:, 0].to_numpy()[keep])
    _close(ours["variance"].to_numpy(), np.asarray(naf._cumulative_sq)[keep])
    _close(ours["lower"].to_numpy(), naf.confidence_interval_.iloc[:, 0].to_numpy()[keep])
    _close(ours["upper"].to_numpy(), naf.confidence_interval_.iloc[:, 1].to_numpy()[keep])


def test_grouped_curves_equal_one_fit_per_group() -> None:
    frame = _dataset("integer_ties").with_columns(segment=pl.Series(["smb", "mid", "ent"] * 200))
    ours = csm.kaplan_meier(frame, by="segment")
    assert ours["segment"].unique(maintain_order=True).to_list() == ["ent", "mid", "smb"]
    for segment in ["ent", "mid", "smb"]:
        part = frame.filter(pl.col("segment") == segment)
        kmf = _fit_km(part, None, None)
        mine = ours.filter(pl.col("segment") == segment)
        _close(mine["survival"].to_numpy(), kmf.survival_function_.iloc[:, 0].to_numpy())
        _close(mine["lower"].to_numpy(), kmf.confidence_interval_.iloc[:, 0].to_numpy())
        _close(mine["at_risk"].to_numpy(), kmf.event_table["at_risk"].to_numpy())


LOGRANK_DATASETS = [
    ("integer_ties", 2, None),
    ("continuous", 3, None),
    ("integer_weights", 2, "weight"),
    ("integer_ties", 4, None),
]


@pytest.mark.parametrize(("name", "arms", "weights"), LOGRANK_DATASETS)
def test_logrank_agrees(name: str, arms: int, weights: str | None) -> None:
    frame = _dataset(name)
    frame = frame.with_columns(group=pl.Series(np.arange(frame.height) % arms))
    ours = csm.logrank_test(frame, weights=weights)
    theirs = multivariate_logrank_test(
        frame["duration"].to_numpy(),
        frame["group"].to_numpy(),
        frame["event"].cast(pl.Int64).to_numpy(),
        weights=None if weights is None else frame[weights].to_numpy(),
    )
    assert ours["df"][0] == arms - 1
    _close(ours["statistic"].to_numpy(), [theirs.test_statistic])
    _close(ours["p_value"].to_numpy(), [theirs.p_value])


def test_pandas_frames_round_trip() -> None:
    frame = _dataset("small_ties").to_pandas()
    ours = csm.kaplan_meier(frame)
    assert isinstance(ours, pd.DataFrame)
    kmf = _fit_km(pl.from_pandas(frame), None, None)
    _close(ours["survival"].to_numpy(), kmf.survival_function_.iloc[:, 0].to_numpy())


def test_reference_is_the_pinned_lifelines() -> None:
    """The notes above describe lifelines 0.30.3: the environment must hold that version."""
    requirements = Path(__file__).resolve().parents[2] / "requirements" / "reference.txt"
    pins = dict(
        line.split("==")
        for line in requirements.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert lifelines.__version__ == pins["lifelines"] == "0.30.3"


def test_zz_hand_computed_curve_and_largest_difference() -> None:
    """Both implementations against the small_ties curve worked by hand in exact fractions, so
    that an error they shared would not pass unseen; then the record of the run."""
    # At risk and churns at each churn time: 12 lives, ties and censoring at churn times.
    times = [1, 2, 3, 4, 5, 8, 9]
    at_risk = [12, 11, 9, 8, 6, 3, 1]
    deaths = [1, 1, 1, 1, 2, 1, 1]
    survival, hazard, greenwood, na_variance = [], [], [], []
    s, h, g, v = Fraction(1), Fraction(0), Fraction(0), Fraction(0)
    for n, d in zip(at_risk, deaths, strict=True):
        s *= 1 - Fraction(d, n)  # product-limit
        h += Fraction(d, n)  # Nelson-Aalen, ties counted at once
        v += Fraction(d * (n - d), n**3)  # its variance with ties: the sum of d (n - d) / n^3
        if n > d:
            g += Fraction(d, n * (n - d))  # Greenwood's sum (no term where S reaches 0)
        survival.append(s)
        hazard.append(h)
        greenwood.append(g)
        na_variance.append(v)
    assert survival == [
        Fraction(11, 12),
        Fraction(10, 12),
        Fraction(20, 27),
        Fraction(35, 54),
        Fraction(35, 81),
        Fraction(70, 243),
        0,
    ]
    variance = [x**2 * y for x, y in zip(survival, greenwood, strict=True)]
    # The area under the step curve from 0 to the last time (9): S is 1 on [0, 1).
    steps = [1, *survival[:-1]]
    rmst = sum(x * (b - a) for x, a, b in zip(steps, [0, *times[:-1]], times, strict=True))
    assert rmst == 1 + Fraction(11, 12) + Fraction(10, 12) + Fraction(20, 27) + Fraction(
        35, 54
    ) + 3 * Fraction(35, 81) + Fraction(70, 243)

    frame = _dataset("small_ties")
    ours = csm.kaplan_meier(frame).filter(pl.col("time") > 0)
    kmf = _fit_km(frame, None, None)
    theirs = kmf.survival_function_.iloc[1:, 0]
    exact = np.array([float(x) for x in survival])
    _close(ours["time"].to_numpy(), times)
    _close(ours["at_risk"].to_numpy(), at_risk)
    _close(ours["events"].to_numpy(), deaths)
    _close(ours["survival"].to_numpy(), exact)
    _close(theirs.to_numpy(), exact)
    _close(ours["variance"].to_numpy(), [float(x) for x in variance])
    summary = csm.kaplan_meier_summary(frame)
    assert summary["median"][0] == kmf.median_survival_time_ == 5  # the first time S <= 1/2
    assert summary["tau"][0] == 9
    _close(summary["rmst"].to_numpy(), [float(rmst)])
    _close([restricted_mean_survival_time(kmf, t=9)], [float(rmst)])
    na = csm.nelson_aalen(frame, ties="textbook").filter(pl.col("time") > 0)
    _close(na["cumulative_hazard"].to_numpy(), [float(x) for x in hazard])
    _close(na["variance"].to_numpy(), [float(x) for x in na_variance])
    naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(frame["duration"], frame["event"])
    _close(naf.cumulative_hazard_.iloc[1:, 0].to_numpy(), [float(x) for x in hazard])

    # Every comparison of the run stayed within the tolerance (each test asserts its own).
    assert LARGEST_DIFFERENCE[0] <= TOLERANCE
    print(f"\nlargest |csmetrics - lifelines| over the run: {LARGEST_DIFFERENCE[0]:.3g}")
