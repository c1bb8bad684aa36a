"""csmetrics.clv forecasts a team can check: numerics at the edges (every prediction finite or
an error), holdout evaluation, and the fit statistics (log-likelihood, AIC, BIC, LR test)."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import polars as pl
import pytest

import csmetrics as csm
from csmetrics import clv

DATA = Path(__file__).resolve().parents[1] / "python" / "csmetrics" / "data"

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
MBG = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _cdnow_log() -> pl.DataFrame:
    rows = [line.split() for line in (DATA / "CDNOW_sample.txt").read_text().splitlines() if line]
    return pl.DataFrame(
        {
            "customer_id": [int(r[1]) for r in rows],
            "timestamp": [dt.datetime.strptime(r[2], "%Y%m%d").date() for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    )


@pytest.fixture(scope="module")
def holdout() -> pl.DataFrame:
    """CDNOW's sample: 39 weeks of calibration (to 1997-09-30), 39 of holdout."""
    return clv.rfm_summary(
        _cdnow_log(),
        time_unit="week",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )


def _simpson_bg_expected(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E[X(t)] of a fresh BG/NBD customer: the mean over p ~ Beta(a, b) of
    (1 - (alpha / (alpha + p t))^r) / p, by Simpson's rule (a, b >= 1: a smooth density)."""
    steps = 20_000
    h = 1.0 / steps
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)

    def f(p: float) -> float:
        if p == 0.0:
            return math.exp(log_norm) * (r * t / alpha) if a == 1.0 else 0.0
        if p == 1.0:
            density = math.exp(log_norm) if b == 1.0 else 0.0
        else:
            density = math.exp(log_norm + (a - 1) * math.log(p) + (b - 1) * math.log1p(-p))
        return density * (1.0 - (alpha / (alpha + p * t)) ** r) / p

    total = f(0.0) + f(1.0)
    for i in range(1, steps):
        total += f(i * h) * (4 if i % 2 else 2)
    return total * h / 3


# --- numerics ---------------------------------------------------------------------------------


def test_bg_nbd_expected_purchases_at_a_equal_to_one() -> None:
    new = pl.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    want = _simpson_bg_expected(0.243, 4.414, 1.0, 2.426, 39.0)
    for a in (1.0, 1.0 + 1e-12, 1.0 - 1e-9):
        model = clv.BetaGeo.from_params({**BG, "a": a})
        got = model.conditional_expected_purchases(new, t=39)["expected_purchases"][0]
        assert got == pytest.approx(want, rel=1e-7), a


def test_horizons_must_be_finite_and_not_negative() -> None:
    model = clv.BetaGeo.from_params(BG)
    one = pl.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    for t in (-1.0, math.nan, math.inf):
        for call in (model.conditional_expected_purchases, model.predict):
            with pytest.raises(csm.InvalidInputError, match="t"):
                call(one, t=t)
        with pytest.raises(csm.InvalidInputError, match="t"):
            model.probability_of_purchases(one, n=0, t=t)


def test_gamma_gamma_below_q_one_still_values_repeat_buyers() -> None:
    gg = clv.GammaGamma.from_params({"p": 6.0, "q": 0.8, "gamma": 15.0})
    data = pl.DataFrame({"frequency": [2, 0, 5], "monetary_value": [30.0, None, 12.5]})
    spend = gg.expected_spend(data)["expected_spend"].to_list()
    # p (gamma + m x) / (p x + q - 1): 6 x 75 / 11.8 and 6 x 77.5 / 29.8; x = 0: infinite mean.
    assert spend[0] == pytest.approx(450 / 11.8, rel=1e-14)
    assert spend[2] == pytest.approx(465 / 29.8, rel=1e-14)
    assert spend[1] is None


@pytest.mark.parametrize("bad", [math.nan, -100.0, 0.0, math.inf])
def test_spend_and_clv_check_the_monetary_value(bad: float) -> None:
    bg = clv.BetaGeo.from_params(BG, time_unit="week")
    gg = clv.GammaGamma.from_params(GG)
    data = pl.DataFrame(
        {
            "frequency": [2, 1],
            "recency": [30.43, 10.0],
            "T": [38.86, 20.0],
            "monetary_value": [20.0, bad],
        }
    )
    for call in (lambda: gg.expected_spend(data), lambda: clv.clv(data, transactions=bg, spend=gg)):
        with pytest.raises(csm.InvalidInputError, match="monetary_value") as err:
            call()
        assert "row 1" in str(err.value)
    # A customer without repeat purchases has no repeat value: whatever stands there is unused.
    fine = data.with_columns(pl.Series("frequency", [2, 0]), pl.Series("recency", [30.43, 0.0]))
    value = clv.clv(fine, transactions=bg, spend=gg)["clv"]
    assert value.null_count() == 0 and (value > 0).all()


def test_pareto_nbd_with_extreme_parameters_stays_finite() -> None:
    data = pl.DataFrame(
        {"frequency": [0, 3, 40], "recency": [0.0, 12.0, 38.0], "T": [39.0, 39.0, 39.0]}
    )
    for params in (
        {"r": 0.553, "alpha": 1e7, "s": 0.606, "beta": 11.669},
        {"r": 5e6, "alpha": 3e8, "s": 2e5, "beta": 1e3},
        {"r": 1e8, "alpha": 1e8, "s": 1e8, "beta": 1e-8},
    ):
        scored = clv.ParetoNBD.from_params(params).predict(data, t=39)
        assert scored["p_alive"].null_count() == 0, params
        assert scored["expected_purchases"].null_count() == 0, params
        assert scored["p_alive"].is_between(0, 1).all()


def test_bg_bb_needs_some_opportunity() -> None:
    data = pl.DataFrame({"frequency": [0] * 10, "recency": [0] * 10, "T": [0] * 10})
    with pytest.raises(csm.InvalidInputError, match="opportunit"):
        clv.BetaGeoBetaBinom().fit(data)


def test_huge_histories_are_finite_in_every_model() -> None:
    weeks = 52.18 * 50
    data = pl.DataFrame(
        {
            "frequency": [10**6, 10**6, 0],
            "recency": [weeks, weeks / 2, 0.0],
            "T": [weeks, weeks, weeks],
            "monetary_value": [25.0, 25.0, None],
        }
    )
    gg = clv.GammaGamma.from_params(GG)
    for cls, params in ((clv.BetaGeo, BG), (clv.ModifiedBetaGeo, MBG), (clv.ParetoNBD, PARETO)):
        model = cls.from_params(params, time_unit="week")
        scored = model.predict(data, t=52)
        assert scored["p_alive"].null_count() == 0, cls
        assert scored["expected_purchases"].null_count() == 0, cls
        # Still buying at 10^6 over 50 years: about 20,000 purchases in a year.
        assert scored["expected_purchases"][0] == pytest.approx(52 * 10**6 / weeks, rel=0.05)
        assert clv.clv(data, transactions=model, spend=gg)["clv"].null_count() == 0


def _random_summary(rng: random.Random) -> pl.DataFrame:
    """A small summary like the ones a bad-input campaign draws: 8 to 25 customers,
    frequency 0..20, T 0..60, recency up to T."""
    rows = rng.randint(8, 25)
    x = [rng.randint(0, 20) for _ in range(rows)]
    age = [float(rng.randint(0, 60)) for _ in range(rows)]
    recency = [
        0.0 if xi == 0 else float(min(rng.randint(0, 40), t)) for xi, t in zip(x, age, strict=True)
    ]
    return pl.DataFrame({"frequency": x, "recency": recency, "T": age})


@pytest.mark.parametrize("cls", [clv.BetaGeo, clv.ModifiedBetaGeo, clv.ParetoNBD])
def test_a_fit_that_succeeds_predicts_for_every_customer(cls: type) -> None:
    rng = random.Random(20261208)
    fitted = 0
    for _ in range(150 if cls is not clv.ParetoNBD else 40):
        data = _random_summary(rng)
        try:
            model = cls().fit(data)
        except (csm.ConvergenceError, csm.InvalidInputError):
            continue
        fitted += 1
        scored = model.predict(data, t=39)
        assert scored["p_alive"].null_count() == 0, model
        assert scored["expected_purchases"].null_count() == 0, model
        new = model.conditional_expected_purchases(
            pl.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]}), t=39
        )
        assert new["expected_purchases"].null_count() == 0, model
    assert fitted > (10 if cls is not clv.ParetoNBD else 2)


def test_runaway_drop_out_parameters_predict_the_fixed_p_limit() -> None:
    # a, b near 1e8: the drop-out probability is a / (a + b) for every customer, and a fresh
    # customer's mean is (1 - (alpha / (alpha + p t))^r) / p.
    a, b = 1.2e8, 3.1e8
    p = a / (a + b)
    fixed = (1 - (4.414 / (4.414 + p * 39)) ** 0.243) / p
    model = clv.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": a, "b": b})
    new = pl.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    got = model.conditional_expected_purchases(new, t=39)["expected_purchases"][0]
    assert got == pytest.approx(fixed, rel=1e-6)


# --- holdout evaluation -----------------------------------------------------------------------


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def _pearson(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


def _expected_figures(predicted: list[float], actual: list[float]) -> dict[str, float]:
    n = len(predicted)
    top = sorted(range(n), key=lambda i: (-predicted[i], i))[: math.ceil(n / 10)]
    return {
        "mae": sum(abs(p - a) for p, a in zip(predicted, actual, strict=True)) / n,
        "rmse": math.sqrt(sum((p - a) ** 2 for p, a in zip(predicted, actual, strict=True)) / n),
        "total_relative_error": (sum(predicted) - sum(actual)) / sum(actual),
        "spearman": _pearson(_ranks(predicted), _ranks(actual)),
        "top_decile_capture": sum(actual[i] for i in top) / sum(actual),
    }


def test_evaluate_on_cdnow_against_figures_computed_here(holdout: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(holdout)
    gg = clv.GammaGamma().fit(holdout)
    result = clv.evaluate(holdout, bg, gg)
    # The per-customer predictions are the model's own.
    scored = bg.conditional_expected_purchases(holdout, t=39)
    durations = holdout["duration_holdout"].unique().to_list()
    assert len(durations) == 1 and durations[0] == pytest.approx(39.0, abs=0.2)
    own = bg.conditional_expected_purchases(holdout, t=durations[0])["expected_purchases"]
    assert result.customers["predicted_purchases"].to_list() == pytest.approx(own.to_list())
    assert scored.height == result.customers.height == holdout.height
    predicted = result.customers["predicted_purchases"].to_list()
    actual = [float(v) for v in holdout["frequency_holdout"].to_list()]
    metrics = {row["target"]: row for row in result.metrics.iter_rows(named=True)}
    for key, want in _expected_figures(predicted, actual).items():
        assert metrics["purchases"][key] == pytest.approx(want, rel=1e-10), key
    assert metrics["purchases"]["actual_total"] == sum(actual)
    # Spend: holdout purchases times their mean value against purchases x expected spend.
    spend = gg.expected_spend(holdout)["expected_spend"].to_list()
    predicted_spend = [p * s for p, s in zip(predicted, spend, strict=True)]
    actual_spend = [
        n * (m or 0.0)
        for n, m in zip(
            holdout["frequency_holdout"], holdout["monetary_value_holdout"], strict=True
        )
    ]
    for key, want in _expected_figures(predicted_spend, actual_spend).items():
        assert metrics["spend"][key] == pytest.approx(want, rel=1e-10), key
    # The calibration table: means by calibration frequency, 7 and more pooled.
    bins = [min(f, 7) for f in holdout["frequency"].to_list()]
    table = result.calibration
    assert table["label"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    for row in table.iter_rows(named=True):
        members = [i for i, b in enumerate(bins) if b == row["frequency"]]
        assert row["customers"] == len(members)
        assert row["actual"] == pytest.approx(sum(actual[i] for i in members) / len(members))
        assert row["predicted"] == pytest.approx(sum(predicted[i] for i in members) / len(members))


def test_evaluate_keeps_the_frame_kind_and_checks_input(holdout: pl.DataFrame) -> None:
    bg = clv.BetaGeo.from_params(BG)
    result = clv.evaluate(holdout.to_pandas(), bg)
    assert type(result.metrics).__name__ == "DataFrame" and hasattr(result.metrics, "iloc")
    assert "predicted_purchases" in result.customers.columns
    bad = holdout.with_columns(pl.col("frequency_holdout").cast(pl.Float64) - 0.5)
    with pytest.raises(csm.InvalidInputError, match="frequency_holdout"):
        clv.evaluate(bad, bg)
    with pytest.raises(csm.InvalidInputError, match="max_frequency"):
        clv.evaluate(holdout, bg, max_frequency=0)
    with pytest.raises(csm.InvalidInputError, match="model"):
        clv.evaluate(holdout, clv.GammaGamma.from_params(GG))


# --- fit statistics ---------------------------------------------------------------------------


def test_summary_reports_log_likelihood_aic_and_bic(holdout: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(holdout)
    table = bg.summary()
    assert table["parameter"].to_list() == ["r", "alpha", "a", "b", "log_likelihood", "aic", "bic"]
    stats = dict(zip(table["parameter"], table["estimate"], strict=True))
    ll, n = bg.log_likelihood_, holdout.height
    assert stats["log_likelihood"] == ll
    assert stats["aic"] == pytest.approx(8 - 2 * ll, rel=1e-15)
    assert stats["bic"] == pytest.approx(4 * math.log(n) - 2 * ll, rel=1e-15)
    assert bg.aic_ == pytest.approx(stats["aic"]) and bg.bic_ == pytest.approx(stats["bic"])
    # Published parameters carry no likelihood: the statistics are null.
    given = clv.BetaGeo.from_params(BG).summary()
    assert given.filter(pl.col("parameter") == "aic")["estimate"].to_list() == [None]


def test_lr_test_needs_nested_fits(holdout: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(holdout)
    with pytest.raises(csm.InvalidInputError, match="more parameters"):
        clv.lr_test(bg, bg)
    with pytest.raises(csm.InvalidInputError, match="one model"):
        clv.lr_test(bg, clv.ParetoNBD().fit(holdout))
    with pytest.raises(csm.InvalidInputError, match="log-likelihood"):
        clv.lr_test(clv.BetaGeo.from_params(BG), bg)


# --- covariates -------------------------------------------------------------------------------


def _segmented(customers: int = 1500, seed: int = 7) -> pl.DataFrame:
    """BG/NBD customers over 39 weeks; plan "pro" buys e^0.8 as often (alpha_pro = alpha e^-0.8)."""
    rng = random.Random(seed)
    rows = []
    for i in range(customers):
        plan = "pro" if i % 4 == 0 else "basic"
        alpha = 5.0 * math.exp(-0.8 if plan == "pro" else 0.0)
        lam = rng.gammavariate(0.9, 1.0) / alpha
        p = rng.betavariate(0.8, 2.5)
        horizon = 39.0
        t, x, last = 0.0, 0, 0.0
        while True:
            t += rng.expovariate(lam)
            if t > horizon:
                break
            x += 1
            last = t
            if rng.random() < p:
                break
        spend = 20.0 * (1.5 if plan == "pro" else 1.0) * rng.uniform(0.5, 1.5)
        rows.append((x, last, horizon, plan, spend if x > 0 else None))
    return pl.DataFrame(
        rows,
        schema=["frequency", "recency", "T", "plan", "monetary_value"],
        orient="row",
    )


@pytest.fixture(scope="module")
def segmented() -> pl.DataFrame:
    return _segmented()


def test_covariates_fit_predict_and_compare(segmented: pl.DataFrame) -> None:
    plain = clv.BetaGeo().fit(segmented)
    with_plan = clv.BetaGeo().fit(segmented, purchase_covariates="plan")
    assert list(with_plan.coefficients_) == ["alpha:plan[pro]"]
    effect = with_plan.coefficients_["alpha:plan[pro]"]
    error = with_plan.standard_errors_["alpha:plan[pro]"]
    assert abs(effect - 0.8) < 4 * error
    # The summary lists the coefficient after the parameters, then the fit statistics.
    table = with_plan.summary()
    assert table["parameter"].to_list() == [
        "r",
        "alpha",
        "a",
        "b",
        "alpha:plan[pro]",
        "log_likelihood",
        "aic",
        "bic",
    ]
    stats = dict(zip(table["parameter"], table["estimate"], strict=True))
    assert stats["aic"] == pytest.approx(10 - 2 * with_plan.log_likelihood_, rel=1e-15)
    # A "pro" customer is scored as the plain model with alpha = alpha_0 exp(-g).
    new = pl.DataFrame(
        {"frequency": [2, 2], "recency": [20.0, 20.0], "T": [39.0, 39.0], "plan": ["pro", "basic"]}
    )
    scored = with_plan.predict(new, t=39)
    base = with_plan.params_
    pro = clv.BetaGeo.from_params({**base, "alpha": base["alpha"] * math.exp(-effect)})
    basic = clv.BetaGeo.from_params(base)
    history = new.drop("plan")
    assert scored["expected_purchases"][0] == pytest.approx(
        pro.predict(history, t=39)["expected_purchases"][0], rel=1e-14
    )
    assert scored["p_alive"][1] == pytest.approx(
        basic.predict(history, t=39)["p_alive"][0], rel=1e-14
    )
    # Nested against the plain fit: the LR statistic is twice the gain in log-likelihood.
    test = clv.lr_test(plain, with_plan)
    assert test.df == 1
    assert test.statistic == pytest.approx(
        2 * (with_plan.log_likelihood_ - plain.log_likelihood_), rel=1e-12
    )
    assert test.p_value < 1e-6
    # An unseen level is refused, naming it.
    with pytest.raises(csm.InvalidInputError, match="enterprise"):
        with_plan.predict(new.with_columns(plan=pl.lit("enterprise")), t=39)


def test_covariate_models_save_load_and_value(segmented: pl.DataFrame, tmp_path: Path) -> None:
    bg = clv.BetaGeo().fit(segmented, purchase_covariates="plan", dropout_covariates="plan")
    assert list(bg.coefficients_) == ["alpha:plan[pro]", "a:plan[pro]", "b:plan[pro]"]
    gg = clv.GammaGamma().fit(segmented, covariates="plan")
    assert gg.coefficients_["gamma:plan[pro]"] == pytest.approx(math.log(1.5), abs=0.15)
    path = tmp_path / "bg.json"
    bg.save(path)
    loaded = clv.BetaGeo.load(path)
    assert loaded.coefficients_ == bg.coefficients_
    assert loaded.predict(segmented, t=52).equals(bg.predict(segmented, t=52))
    value = clv.clv(segmented, transactions=bg, spend=gg, time_unit="week")["clv"]
    assert value.null_count() == 0
    # Without covariates the value is that of the plain models.
    plain_value = clv.clv(
        segmented,
        transactions=clv.BetaGeo.from_params(bg.params_),
        spend=clv.GammaGamma.from_params(gg.params_),
        time_unit="week",
    )["clv"]
    basic = segmented["plan"] == "basic"
    assert value.filter(basic).to_list() == pytest.approx(plain_value.filter(basic).to_list())


# --- intervals --------------------------------------------------------------------------------


def test_intervals_are_seeded_and_bracket_the_estimates(segmented: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(segmented)
    gg = clv.GammaGamma().fit(segmented)
    head = segmented.head(50)
    first = bg.predict(head, t=39, interval=0.9, seed=5)
    again = bg.predict(head, t=39, interval=0.9, seed=5)
    assert first.equals(again)
    assert not first.equals(bg.predict(head, t=39, interval=0.9, seed=6))
    plain = bg.predict(head, t=39)
    assert first["expected_purchases"].to_list() == plain["expected_purchases"].to_list()
    for name in ("p_alive", "expected_purchases"):
        lower, upper = first[f"{name}_lower"], first[f"{name}_upper"]
        assert (lower <= upper).all()
        assert (lower <= first[name] + 1e-12).all() and (first[name] <= upper + 1e-12).all()
    assert first["p_alive_upper"].max() <= 1.0
    wider = bg.predict(head, t=39, interval=0.99, seed=5)
    assert (
        (wider["expected_purchases_upper"] - wider["expected_purchases_lower"])
        >= (first["expected_purchases_upper"] - first["expected_purchases_lower"])
    ).all()
    value = clv.clv(head, transactions=bg, spend=gg, time_unit="week", interval=0.8, draws=50)
    assert (value["clv_lower"] <= value["clv"]).all() and (value["clv"] <= value["clv_upper"]).all()
    with pytest.raises(csm.InvalidInputError, match="covariance"):
        clv.BetaGeo.from_params(BG).predict(head, t=39, interval=0.9)
    with pytest.raises(csm.InvalidInputError, match="interval"):
        bg.predict(head, t=39, interval=1.5)
