"""Synthetic and reference data sets: determinism, schemas, integrity, planted behaviour."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics import datasets

US = pl.Datetime("us")


def test_deterministic_and_seeded() -> None:
    a = datasets.survey_responses(5_000, customers=300, months=6, seed=3)
    b = datasets.survey_responses(5_000, customers=300, months=6, seed=3)
    c = datasets.survey_responses(5_000, customers=300, months=6, seed=4)
    assert_frame_equal(a, b)
    assert not a.equals(c)


def test_schema_and_ranges() -> None:
    answers = datasets.survey_responses(20_000, customers=2_000, months=12, seed=0)
    survey_columns = {k: v for k, v in SCHEMAS["surveys"].items() if k != "comment"}
    assert answers.schema == pl.Schema(survey_columns)
    assert answers["nps"].min() >= 0 and answers["nps"].max() <= 10
    assert answers["csat"].min() >= 1 and answers["csat"].max() <= 5
    assert answers["ces"].min() >= 1 and answers["ces"].max() <= 7
    # Segment is fixed per customer.
    assert (
        answers.group_by("customer_id").agg(pl.col("segment").n_unique()).max()["segment"][0] == 1
    )


def test_planted_segment_ordering() -> None:
    answers = datasets.survey_responses(200_000, customers=20_000, months=12, seed=1)
    result = csm.nps(answers, score="nps", by="segment")
    by_segment = dict(zip(result["segment"], result["nps"], strict=True))
    assert by_segment["smb"] < by_segment["mid_market"] < by_segment["enterprise"]


# --- the synthetic business -------------------------------------------------------------------

SCHEMAS: dict[str, dict[str, Any]] = {
    "customers": {
        "customer_id": pl.Int64,
        "signup_date": pl.Date,
        "segment": pl.String,
        "country": pl.String,
    },
    "subscriptions": {
        "customer_id": pl.Int64,
        "subscription_id": pl.Int64,
        "plan": pl.String,
        "start": pl.Date,
        "end": pl.Date,
        "amount": pl.Float64,
        "interval": pl.String,
        "interval_count": pl.Int32,
        "quantity": pl.Int32,
        "status": pl.String,
        "percent_off": pl.Float64,
        "amount_off": pl.Float64,
        "discount_duration": pl.String,
        "duration_in_months": pl.Int32,
        "discount_start": pl.Date,
        "discount_end": pl.Date,
        "canceled_at": pl.Date,
        "churn_reason": pl.String,
    },
    "transactions": {"customer_id": pl.Int64, "timestamp": US, "amount": pl.Float64},
    "surveys": {
        "customer_id": pl.Int64,
        "segment": pl.String,
        "timestamp": pl.Date,
        "nps": pl.Int8,
        "csat": pl.Int8,
        "ces": pl.Int8,
        "comment": pl.String,
    },
    "tickets": {
        "ticket_id": pl.Int64,
        "customer_id": pl.Int64,
        "opened_at": US,
        "resolved_at": US,
        "contacts": pl.Int32,
        "reopened_at": US,
        "resolvable_at_first_contact": pl.Boolean,
        "first_response_at": US,
        "priority": pl.String,
        "channel": pl.String,
    },
    "usage": {
        "customer_id": pl.Int64,
        "date": pl.Date,
        "active_users": pl.Int32,
        "events": pl.Int32,
        "feature": pl.String,
    },
    "events": {"customer_id": pl.Int64, "user_id": pl.Int64, "timestamp": US, "feature": pl.String},
    "costs": {"period": pl.Date, "amount": pl.Float64},
    "trials": {
        "customer_id": pl.Int64,
        "trial_start": pl.Date,
        "trial_end": pl.Date,
        "converted_at": pl.Date,
    },
    "conversions": {"customer_id": pl.Int64, "timestamp": pl.Date, "kind": pl.String},
    "milestones": {"customer_id": pl.Int64, "milestone": pl.String, "timestamp": US},
}


@pytest.fixture(scope="module")
def business() -> datasets.SaasData:
    return datasets.saas(4_000, seed=5)


@pytest.fixture(scope="module")
def large() -> datasets.SaasData:
    # Large enough for the statistical checks; no usage needed.
    return datasets.saas(30_000, churn_hazard=0.04, usage_days=0, seed=17)


def test_saas_schemas(business: datasets.SaasData) -> None:
    tables = business.tables()
    assert list(tables) == list(SCHEMAS)
    for name, schema in SCHEMAS.items():
        assert tables[name].schema == pl.Schema(schema), name
    assert business.customers["customer_id"].to_list() == list(range(1, 4_001))
    assert business.costs.height == 24
    assert set(business.customers["segment"]) == {"smb", "mid_market", "enterprise"}
    assert set(business.subscriptions["interval"]) == {"month", "year"}
    assert set(business.conversions["kind"]) == {"new", "upsell", "cross_sell"}
    assert set(business.usage["feature"]) == {"core", "reports", "integrations", "api"}
    assert business.events.height > 0  # raw events are on at this size


def test_saas_deterministic_and_seeded(business: datasets.SaasData) -> None:
    again = datasets.saas(4_000, seed=5)
    other = datasets.saas(4_000, seed=6)
    for name, frame in business.tables().items():
        assert_frame_equal(frame, again.tables()[name])
        assert not frame.equals(other.tables()[name]), name
    assert business.parameters == again.parameters


def test_write_is_deterministic_and_matches_memory(tmp_path: Path) -> None:
    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    one = datasets.write(tmp_path / "one", 1_000, months=12, seed=8)
    first = datasets.write(tmp_path / "a", 1_000, chunk_customers=300, months=12, seed=8)
    second = datasets.write(tmp_path / "b", 1_000, chunk_customers=300, months=12, seed=8)
    other = datasets.write(tmp_path / "c", 1_000, chunk_customers=300, months=12, seed=9)
    assert one == first == second
    written = files(tmp_path / "a")
    assert sorted(written) == sorted([f"{name}.parquet" for name in SCHEMAS] + ["parameters.json"])
    assert written == files(tmp_path / "b")
    different = files(tmp_path / "c")
    assert all(written[name] != different[name] for name in written)
    assert sum(other.values()) != sum(first.values())

    memory = datasets.saas(1_000, months=12, seed=8)
    for name, frame in memory.tables().items():
        assert first[name] == frame.height
        for folder in ("one", "a"):
            assert_frame_equal(pl.read_parquet(tmp_path / folder / f"{name}.parquet"), frame)
    parameters = json.loads((tmp_path / "a" / "parameters.json").read_text())
    assert parameters["end"] == "2024-01-01" and parameters["bgnbd"]["alpha"] == 4.0
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".parts")]


def test_referential_integrity(business: datasets.SaasData) -> None:
    customers = business.customers.select("customer_id", "signup_date")
    end = business.parameters["end"]
    dated = {
        "subscriptions": ["start"],
        "transactions": ["timestamp"],
        "surveys": ["timestamp"],
        "tickets": ["opened_at", "resolved_at", "reopened_at", "first_response_at"],
        "usage": ["date"],
        "events": ["timestamp"],
        "trials": ["trial_start", "converted_at"],
        "conversions": ["timestamp"],
        "milestones": ["timestamp"],
    }
    for name, columns in dated.items():
        frame = business.tables()[name]
        orphans = frame.join(customers, on="customer_id", how="anti")
        assert orphans.height == 0, name
        joined = frame.join(customers, on="customer_id")
        for column in columns:
            day = pl.col(column).cast(pl.Date)
            early = joined.filter(day < pl.col("signup_date"))
            late = joined.filter(day >= end)
            assert early.height == 0 and late.height == 0, (name, column)

    subs = business.subscriptions
    assert subs.filter(pl.col("end") <= pl.col("start")).height == 0
    # One row per status spell: a subscription's rows start on distinct days, each the day the
    # previous one ends.
    assert subs.select("subscription_id", "start").n_unique() == subs.height
    chained = subs.sort("subscription_id", "start").with_columns(
        next_start=pl.col("start").shift(-1).over("subscription_id")
    )
    assert chained.filter(
        pl.col("next_start").is_not_null() & (pl.col("next_start") != pl.col("end"))
    ).is_empty()
    assert set(subs["status"]) == {"trialing", "active", "past_due", "paused"}
    assert (subs.filter(pl.col("plan") == "trial")["status"] == "trialing").all()
    assert subs["quantity"].min() >= 1
    asked = subs.filter(pl.col("canceled_at").is_not_null() & pl.col("end").is_not_null())
    assert asked.height > 0 and (asked["canceled_at"] < asked["end"]).all()
    assert (subs["subscription_id"] // 1000 == subs["customer_id"]).all()
    # $0 only on the trial and free plans.
    free = subs.filter(pl.col("amount") == 0)["plan"].unique().sort().to_list()
    assert free == ["free", "trial"]
    # Add-ons overlap a base subscription of the same customer that started no later.
    addons = subs.filter(pl.col("plan").str.starts_with("addon"))
    base = subs.filter(~pl.col("plan").str.starts_with("addon") & (pl.col("amount") > 0))
    covered = (
        addons.join(base, on="customer_id", suffix="_base")
        .filter(
            (pl.col("start_base") <= pl.col("start"))
            & (pl.col("end_base").is_null() | (pl.col("end_base") > pl.col("start")))
        )
        .select("subscription_id")
        .unique()
    )
    assert addons.height > 0 and covered.height == addons.height

    tickets = business.tickets
    assert tickets["ticket_id"].n_unique() == tickets.height
    assert tickets.filter(pl.col("resolved_at") <= pl.col("opened_at")).height == 0
    assert tickets.filter(pl.col("reopened_at") < pl.col("resolved_at")).height == 0
    assert (
        tickets.filter(pl.col("reopened_at").is_not_null() & pl.col("resolved_at").is_null()).height
        == 0
    )
    assert (
        tickets.filter(
            pl.col("resolvable_at_first_contact").not_() & (pl.col("contacts") == 1)
        ).height
        == 0
    )

    trials = business.trials
    assert (trials["trial_end"] - trials["trial_start"]).dt.total_days().unique().to_list() == [14]
    # Every trial has its $0 trial subscription; every converted trial later pays.
    assert subs.filter(pl.col("plan") == "trial").height == trials.height
    converted = trials.filter(pl.col("converted_at").is_not_null())
    assert (converted["converted_at"] <= converted["trial_end"] + dt.timedelta(days=7)).all()


def test_raw_events_aggregate_to_usage(business: datasets.SaasData) -> None:
    from_events = (
        business.events.group_by(
            "customer_id", pl.col("timestamp").dt.date().alias("date"), "feature"
        )
        .agg(
            pl.col("user_id").n_unique().cast(pl.Int32).alias("active_users"),
            pl.len().cast(pl.Int32).alias("events"),
        )
        .sort("customer_id", "date", "feature")
    )
    usage = business.usage.select("customer_id", "date", "feature", "active_users", "events")
    assert_frame_equal(from_events, usage.sort("customer_id", "date", "feature"))
    assert datasets.saas(100, raw_events=False).events.height == 0
    above_limit = datasets.saas(20_000, usage_days=2, months=2, raw_events=None)
    assert above_limit.parameters["raw_events"] is False and above_limit.events.height == 0


def _paid(subscriptions: pl.DataFrame) -> pl.DataFrame:
    return subscriptions.filter(pl.col("amount") > 0).select("customer_id", "plan", "start", "end")


def _active_at(at: pl.Expr) -> pl.Expr:
    """Whether a paid row is active at the last instant before the day `at`."""
    return (pl.col("start") < at) & (pl.col("end").is_null() | (pl.col("end") >= at))


def test_monthly_logo_churn_matches_the_hazard(large: datasets.SaasData) -> None:
    hazard = large.parameters["churn_hazard"]
    subs = large.subscriptions
    # Customers billed monthly (interval "month", count 1) on every paid base row.
    other_billing = subs.filter(
        (pl.col("amount") > 0)
        & ~pl.col("plan").str.starts_with("addon")
        & ((pl.col("interval") != "month") | (pl.col("interval_count") != 1))
    ).select("customer_id")
    paid = _paid(subs).join(other_billing, on="customer_id", how="anti")
    start = large.parameters["start"]
    ends = [
        dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)
        for k in range(1, large.parameters["months"] + 1)
    ]
    months = pl.DataFrame({"month_end": ends[:-1], "next_end": ends[1:]})
    active = (
        paid.join(pl.DataFrame({"month_end": ends}), how="cross")
        .filter(_active_at(pl.col("month_end")))
        .select("customer_id", "month_end")
        .unique()
    )
    at_risk = active.join(months, on="month_end")
    churned = at_risk.join(
        active.rename({"month_end": "next_end"}), on=["customer_id", "next_end"], how="anti"
    )
    rate = churned.height / at_risk.height
    se = math.sqrt(hazard * (1 - hazard) / at_risk.height)
    assert at_risk.height > 100_000
    assert abs(rate - hazard) < 4 * se, (rate, hazard, se)


def test_low_scores_come_before_churn(large: datasets.SaasData) -> None:
    paid = _paid(large.subscriptions)
    end = large.parameters["end"]
    surveys = (
        large.surveys.with_row_index("answer")
        .filter(pl.col("timestamp") + dt.timedelta(days=15) < end)
        .select("answer", "customer_id", "timestamp", "nps")
    )
    day = pl.col("timestamp")
    status = (
        surveys.join(paid, on="customer_id")
        .group_by("answer", "nps")
        .agg(
            _active_at(day + dt.timedelta(days=1)).any().alias("before"),
            _active_at(day + dt.timedelta(days=16)).any().alias("after"),
        )
        .with_columns(churned=pl.col("before") & ~pl.col("after"))
    )
    assert status["before"].all()  # answers come from paying customers
    rates = (
        status.with_columns(
            group=pl.when(pl.col("nps") <= 6)
            .then(pl.lit("detractor"))
            .when(pl.col("nps") >= 9)
            .then(pl.lit("promoter"))
            .otherwise(pl.lit("passive"))
        )
        .group_by("group")
        .agg(pl.col("churned").mean(), pl.len())
    )
    by_group = {row["group"]: row for row in rates.to_dicts()}
    assert min(row["len"] for row in by_group.values()) > 2_000
    detractor, passive, promoter = (
        by_group[g]["churned"] for g in ("detractor", "passive", "promoter")
    )
    assert detractor > passive > promoter
    assert detractor > 3 * promoter


def _expected_repeat_purchases(
    horizons: pl.Series, r: float, alpha: float, a: float, b: float
) -> pl.Series:
    """E[X(t)] of the BG/NBD for each t (weeks), by quadrature over the dropout probability p.

    With the purchase rate integrated out, E[X(t) | p] = (1 - (alpha / (alpha + p t))^r) / p;
    substituting p = u^(1/a) turns the beta weight p^(a-1) (1-p)^(b-1) dp into (1-p)^(b-1) du / a,
    so a midpoint rule on u is accurate. The weights are normalised numerically.
    """
    n = 2_000
    grid = (
        pl.DataFrame({"u": [(i + 0.5) / n for i in range(n)]})
        .with_columns(p=pl.col("u") ** (1 / a))
        .with_columns(w=(1 - pl.col("p")) ** (b - 1))
    )
    t = pl.DataFrame({"t": horizons.unique()})
    values = (
        t.join(grid, how="cross")
        .with_columns(
            x=(1 - (alpha / (alpha + pl.col("p") * pl.col("t"))) ** r) / pl.col("p") * pl.col("w")
        )
        .group_by("t")
        .agg(expected=pl.col("x").sum() / pl.col("w").sum())
    )
    return pl.DataFrame({"t": horizons}).join(values, on="t", how="left")["expected"]


def test_purchases_match_the_bgnbd_expectation(large: datasets.SaasData) -> None:
    params = large.parameters["bgnbd"]
    end = dt.datetime.combine(large.parameters["end"], dt.time())
    per_customer = large.transactions.group_by("customer_id").agg(
        repeats=pl.len() - 1,
        # Horizon of each customer: from its first purchase to the end, in weeks (quarter days).
        t=((pl.lit(end) - pl.col("timestamp").min()).dt.total_seconds() / (7 * 86_400) * 28).round()
        / 28,
    )
    assert per_customer.height == large.customers.height  # everyone makes a first purchase
    expected = _expected_repeat_purchases(
        per_customer["t"], params["r"], params["alpha"], params["a"], params["b"]
    )
    observed = per_customer["repeats"].cast(pl.Float64)
    n = observed.len()
    mean, sd, target = observed.mean(), observed.std(), expected.mean()
    assert isinstance(mean, float) and isinstance(sd, float) and isinstance(target, float)
    assert abs(mean - target) < 4 * sd / math.sqrt(n), (mean, target)
    assert abs(mean / target - 1) < 0.08, (mean, target)


def test_purchase_amounts_match_the_gamma_gamma_mean(large: datasets.SaasData) -> None:
    gg = large.parameters["gamma_gamma"]
    target = gg["p"] * gg["gamma"] / (gg["q"] - 1)
    amounts = large.transactions["amount"]
    assert amounts.min() >= 0.01
    assert (amounts * 100 - (amounts * 100).round()).abs().max() < 1e-6
    mean = amounts.mean()
    assert isinstance(mean, float)
    assert abs(mean / target - 1) < 0.03, (mean, target)


def test_trials_convert_at_the_configured_rate(large: datasets.SaasData) -> None:
    trials = large.trials
    share, conversion = large.parameters["trial_share"], large.parameters["trial_conversion"]
    n = large.customers.height
    assert abs(trials.height / n - share) < 4 * math.sqrt(share * (1 - share) / n)
    # Trials whose conversion window (to 7 days after the trial) closed before the end.
    closed = trials.filter(pl.col("trial_end") + dt.timedelta(days=8) <= large.parameters["end"])
    rate = closed["converted_at"].is_not_null().mean()
    assert isinstance(rate, float)
    se = math.sqrt(conversion * (1 - conversion) / closed.height)
    assert abs(rate - conversion) < 4 * se, (rate, conversion)


def test_parameters_are_validated() -> None:
    with pytest.raises(csm.InvalidInputError, match="churn_hazard") as caught:
        datasets.saas(100, churn_hazard=0.5)
    assert caught.value.option == "churn_hazard"
    with pytest.raises(csm.InvalidInputError, match="months"):
        datasets.saas(100, months=0)
    with pytest.raises(csm.InvalidInputError, match="customers"):
        datasets.saas(0)
    with pytest.raises(csm.InvalidInputError, match="alpha"):
        datasets.saas(100, bgnbd=(0.25, -1.0, 0.8, 2.5))
    with pytest.raises(csm.InvalidInputError, match="chunk_customers"):
        datasets.write("unused", 100, chunk_customers=0)


# --- reference data ---------------------------------------------------------------------------


def test_cdnow_sample_and_master() -> None:
    sample = datasets.cdnow("sample")
    assert sample.schema == pl.Schema(
        {
            "master_id": pl.Int64,
            "customer_id": pl.Int64,
            "date": pl.Date,
            "number_of_cds": pl.Int64,
            "dollar_value": pl.Float64,
        }
    )
    assert sample.height == 6_919 and sample["customer_id"].n_unique() == 2_357
    assert sample["customer_id"].min() == 1 and sample["customer_id"].max() == 2_357
    # Same-day duplicate records, as documented.
    assert sample.height - sample.select("customer_id", "date").n_unique() == 223
    master = datasets.cdnow("master")
    assert master.columns == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert master.height == 69_659 and master["customer_id"].n_unique() == 23_570
    assert master["date"].min() == dt.date(1997, 1, 1)
    assert master["date"].max() == dt.date(1998, 6, 30)
    # The sample's records are the master's records of the sampled customers.
    in_master = sample.join(
        master.rename({"customer_id": "master_id"}),
        on=["master_id", "date", "number_of_cds", "dollar_value"],
        how="semi",
    )
    assert in_master.height == sample.height


def test_cdnow_summary_is_reproduced_from_the_sample() -> None:
    # Merge same-day purchases, calibrate to 1997-09-30 inclusive, times in weeks.
    end = dt.date(1997, 9, 30)
    sample = datasets.cdnow("sample")
    days = sample.filter(pl.col("date") <= end).select("customer_id", "date").unique()
    computed = (
        days.group_by("customer_id")
        .agg(
            frequency=pl.len() - 1,
            recency=(pl.col("date").max() - pl.col("date").min()).dt.total_days() / 7,
            T=(pl.lit(end) - pl.col("date").min()).dt.total_days() / 7,
        )
        .sort("customer_id")
    )
    summary = datasets.cdnow("summary")
    assert summary.columns == ["customer_id", "frequency", "recency", "T"]
    assert summary.height == 2_357
    assert summary["frequency"].to_list() == computed["frequency"].to_list()
    for column in ("recency", "T"):
        assert (summary[column] - computed[column]).abs().max() < 0.005 + 1e-9

    monetary = datasets.cdnow("summary_monetary")
    assert monetary.columns == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert_frame_equal(monetary.drop("monetary_value"), summary)
    assert monetary.filter(pl.col("frequency") > 0).height == 946


def test_cdnow_rejects_unknown_kinds() -> None:
    with pytest.raises(csm.InvalidInputError, match="kind"):
        datasets.cdnow("weekly")  # type: ignore[arg-type]


def test_donations_and_sbg_retention() -> None:
    donations = datasets.donations()
    assert donations.columns == ["frequency", "recency", "periods", "weights"]
    assert donations.height == 22 and donations["weights"].sum() == 11_104
    assert (donations["periods"] == 6).all()
    assert (donations["frequency"] <= donations["recency"]).all()
    retention = datasets.sbg_retention()
    assert retention.schema == pl.Schema(
        {"year": pl.Int64, "regular_alive_pct": pl.Float64, "highend_alive_pct": pl.Float64}
    )
    assert retention["year"].to_list() == list(range(8))
    assert retention.row(7) == (7, 24.1, 49.1)
    # Survival curves never rise.
    for column in ("regular_alive_pct", "highend_alive_pct"):
        assert (retention[column].diff().drop_nulls() < 0).all()


def test_seats_keep_the_scale_of_flat_plans() -> None:
    """Flat plans have quantity 1 (their units are in the amount); per-seat plans price a seat at
    the plan's price over mean_seats and start with 1 + Poisson(u * mean_seats - 1) seats, so the
    same business (same seed: the same lifecycle) sold per seat has about the flat MRR: the seat
    changes drift it up by about 1% a year, and the seat draws add noise (here a standard error
    of about 1% of the MRR). Contract MRR, so that the discounts do not enter."""
    kwargs: dict[str, Any] = {"months": 18, "usage_days": 0, "seed": 11}
    flat = datasets.saas(15_000, seat_share=0.0, **kwargs).subscriptions
    seats = datasets.saas(15_000, seat_share=1.0, **kwargs).subscriptions
    assert (flat["quantity"] == 1).all()
    paid = seats.filter(pl.col("plan").is_in(["starter", "growth", "business", "enterprise"]))
    assert paid["quantity"].mean() > 4  # mean_seats 5 a unit, units 1 to 5
    # The flat rows' amounts are whole numbers of units of the list prices (billed monthly, 3
    # months at 5% off, or 10 months a year).
    list_price = {"starter": 49.0, "growth": 149.0, "business": 499.0, "enterprise": 1999.0}
    flat_paid = flat.filter(pl.col("plan").is_in(list(list_price)))
    months = (
        pl.when(pl.col("interval") == "year")
        .then(10.0)
        .otherwise(
            pl.col("interval_count")
            * pl.when(pl.col("interval_count") == 3).then(0.95).otherwise(1.0)
        )
    )
    units = pl.col("amount") / (pl.col("plan").replace_strict(list_price) * months)
    assert flat_paid.select(((units - units.round()).abs() < 1e-6).all()).item()

    def contract(subs: pl.DataFrame) -> pl.DataFrame:
        return csm.mrr_bridge(
            subs, mrr_basis="contract", interval_count="interval_count", as_of=flat["start"].max()
        )

    ratio = contract(seats)["ending_mrr"] / contract(flat)["ending_mrr"]
    assert ratio.len() == 18
    assert ((ratio[6:] - 1).abs() < 0.05).all(), ratio.to_list()


def test_feedback_responses_plant_billing_among_churning_detractors() -> None:
    answers = datasets.feedback_responses(40_000, customers=4_000, months=12, seed=1)
    assert answers.columns[-2:] == ["churned", "comment"]
    # About 65% of the answers carry a comment.
    assert 0.62 < answers["comment"].is_not_null().mean() < 0.68  # type: ignore[operator]
    billing = answers["comment"].str.contains(r"(?i)billing|invoice|refund|charged")

    def share(mask: pl.Series) -> float:
        return float(billing.filter(mask & answers["comment"].is_not_null()).mean())  # type: ignore[arg-type]

    detractor = answers["nps"] <= 6
    # The planted shares: 70% of churning detractors write about billing, 30% of the others,
    # 3% of promoters (the word lists also catch a few sentences of other themes).
    assert abs(share(detractor & answers["churned"]) - 0.7) < 0.04
    assert abs(share(detractor & ~answers["churned"]) - 0.3) < 0.04
    assert share(answers["nps"] >= 9) < 0.06
    # The SaaS generator's surveys have comments too, and its other columns did not change.
    saas = datasets.saas(500, months=6, seed=2, raw_events=False).surveys
    assert saas["comment"].is_not_null().sum() > 0
