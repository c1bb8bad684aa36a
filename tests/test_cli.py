"""The command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from csmetrics.cli import main


def test_demo_prints_the_main_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "2000", "--months", "12"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "MRR bridge",
        "Billing detail",
        "Revenue KPIs",
        "Logo churn by segment",
        "NPS by segment and quarter",
        "Stripe export of customers 1 to 2,000",
    ):
        assert heading in out
    for column in ("net_mrr", "contract_mrr", "committed_mrr", "cancellations", "involuntary"):
        assert column in out
    # Twelve months from January 2023: the tables end in December 2023, never after it.
    assert "enterprise" in out and "2023-12-01" in out and "2024-" not in out


def test_demo_writes_a_stripe_export_and_reads_it_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csmetrics as csm
    from csmetrics import datasets
    from csmetrics.io import stripe

    argv = ["demo", "--customers", "400", "--months", "12", "--seed", "5"]
    assert main([*argv, "--stripe-customers", "150", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "stripe"
    tables = stripe.read(
        subscriptions=folder / "subscriptions.jsonl", invoices=folder / "invoices.jsonl"
    )
    subs = datasets.saas(400, months=12, seed=5).subscriptions.filter(pl.col("customer_id") <= 150)
    assert tables.subscriptions["customer_id"].n_unique() == subs["customer_id"].n_unique()
    void = tables.skipped["void invoices"]
    assert (
        f"Stripe export of customers 1 to 150 (API 2025-03-31) in {folder}/: "
        f"{subs['subscription_id'].n_unique():,} subscriptions and "
        f"{tables.invoice_lines.height + void:,} invoices written in "
    ) in out
    assert (
        f"{tables.subscriptions.height:,} subscription rows, {tables.discounts.height:,} "
        f"discounts, {tables.invoice_lines.height:,} invoice lines; left out: {void:,} void "
        "invoices."
    ) in out
    # December's MRR, the same from the export's subscriptions and from the generator's rows;
    # the invoice lines' is what was billed (a repeating coupon on a yearly plan takes its
    # percentage off the whole year's invoice).
    mrr = csm.mrr_bridge(subs, interval_count="interval_count")["ending_mrr"][-1]
    as_of = subs["start"].max()
    billed = csm.mrr_bridge(tables.invoice_lines, table="invoices", as_of=as_of)
    assert (
        f"MRR in December 2023 (cut at {as_of}): {billed['ending_mrr'][-1]:,.2f} from the Stripe "
        f"invoice lines (what was billed), {mrr:,.2f} from the Stripe subscriptions (today's "
        f"prices and seats), {mrr:,.2f} from the generator's table of the same customers; "
        f"{billed['ending_customers'][-1]:,} paying customers by the invoices."
    ) in out
    # Without --out the export goes to a temporary folder; 0 customers leave it out.
    assert main([*argv, "--stripe-customers", "0"]) == 0
    assert "Stripe export" not in capsys.readouterr().out


def _health_tables(folder: Path) -> list[str]:
    """Three monthly customers with NPS answers and usage, as Parquet files, as CLI options.

    a answered 10 and was active on 10 days 40-49 days before the cut-off (31 March 2026); b
    answered 0 and was active on 5 days, c answered 5 and was active on 10 days, all in the
    last 12 days.
    """
    subs = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "start": [dt.date(2026, 1, 1)] * 3,
            "end": [None, None, None],
            "amount": [100.0] * 3,
            "interval": ["month"] * 3,
        },
        schema_overrides={"end": pl.Date},
    )
    answers = pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "timestamp": [dt.date(2026, 3, 1)] * 3, "nps": [10, 0, 5]}
    )
    days = {
        "a": [dt.date(2026, 2, 10) + dt.timedelta(days=i) for i in range(10)],
        "b": [dt.date(2026, 3, 20) + dt.timedelta(days=i) for i in range(5)],
        "c": [dt.date(2026, 3, 20) + dt.timedelta(days=i) for i in range(10)],
    }
    usage = pl.DataFrame(
        [
            {"customer_id": c, "date": d, "active_users": 1, "events": 3}
            for c, ds in days.items()
            for d in ds
        ]
    )
    args = ["--as-of", "2026-03-31"]
    for name, frame in [("subscriptions", subs), ("responses", answers), ("usage", usage)]:
        frame.write_parquet(folder / f"{name}.parquet")
        args += [f"--{name}", str(folder / f"{name}.parquet")]
    return args


def _scores(
    folder: Path, extra: list[str], attention_rows: Any, capsys: pytest.CaptureFixture[str]
) -> dict[str, dict[str, str]]:
    pytest.importorskip("matplotlib")  # the report draws its charts with it
    out = folder / "report.html"
    assert main(["report", *_health_tables(folder), *extra, "--out", str(out)]) == 0
    capsys.readouterr()
    return attention_rows(out.read_text(encoding="utf-8"))


def test_report_health_recipe_from_the_command_line(
    tmp_path: Path, attention_rows: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def score_band(rows: dict[str, dict[str, str]]) -> dict[str, tuple[str, str]]:
        return {c: (row["score"], row["band"]) for c, row in rows.items()}

    # Default: NPS weight 1 (a 1, b 0, c 0.5 min-max) and active days over 90 days weight 2
    # (a 10, b 5, c 10: 1, 0, 1): a (1 + 2) / 3, b 0, c (0.5 + 2) / 3.
    default = _scores(tmp_path, [], attention_rows, capsys)
    assert score_band(default) == {
        "a": ("100", "green"),
        "b": ("0", "red"),
        "c": ("83.3", "green"),
    }
    assert {"last_nps", "active_days_90d"} <= set(default["a"])

    # NPS alone.
    only_nps = _scores(tmp_path, ["--health-weights", "nps=1"], attention_rows, capsys)
    assert score_band(only_nps) == {"a": ("100", "green"), "b": ("0", "red"), "c": ("50", "yellow")}
    assert "active_days_90d" not in only_nps["a"]

    # A TOML recipe: active days over 30 days (a 0, b 5, c 10), bands 60 / 90.
    toml = tmp_path / "recipe.toml"
    toml.write_text("window_days = 30\nbands = [60, 90]\n\n[weights]\nactive_days = 1\n")
    recipe = _scores(tmp_path, ["--health-recipe", str(toml)], attention_rows, capsys)
    assert score_band(recipe) == {"a": ("0", "red"), "b": ("50", "red"), "c": ("100", "green")}
    assert [recipe[c]["active_days_30d"] for c in "abc"] == ["0", "5", "10"]

    # The same as JSON, with --health-weights replacing its weights: NPS and active days
    # equally, a (1 + 0) / 2, b (0 + 0.5) / 2, c (0.5 + 1) / 2.
    json_recipe = tmp_path / "recipe.json"
    json_recipe.write_text('{"window_days": 30, "bands": [60, 90], "weights": {"tickets": 1}}')
    both = _scores(
        tmp_path,
        ["--health-recipe", str(json_recipe), "--health-weights", "nps=1,active_days=1"],
        attention_rows,
        capsys,
    )
    assert score_band(both) == {"a": ("50", "red"), "b": ("25", "red"), "c": ("75", "yellow")}


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--health-weights", "usage=0.4", "unknown health component"),
        ("--health-weights", "nps=-1", "the weight of nps must be a number >= 0; got -1.0"),
        ("--health-weights", "nps=lots", "the weight of nps must be a number >= 0; got 'lots'"),
        ("--health-weights", "nps", "expected NAME=WEIGHT pairs"),
        ("--health-weights", "nps=0,tickets=0", "at least one component needs a weight > 0"),
        ("--health-weights", "nps=1,nps=2", "got 'nps' twice"),
        ("--health-recipe", "bands = [70, 40]", "0 <= lower <= upper <= 100; got [70, 40]"),
        ("--health-recipe", "window_days = 0", "window_days must be a whole number"),
        ("--health-recipe", 'normalisation = "zscore"', "got 'zscore'"),
        ("--health-recipe", "window = 30", "unknown key"),
        ("--health-recipe", "weights = ", "cannot read --health-recipe"),
    ],
)
def test_report_health_recipe_errors_name_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, expected: str
) -> None:
    given = value
    if flag == "--health-recipe":
        given = str(tmp_path / "recipe.toml")
        Path(given).write_text(value + "\n")
    out = tmp_path / "report.html"
    code = main(["report", *_health_tables(tmp_path), flag, given, "--out", str(out)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"csmetrics: {flag}") or lines[0].startswith(
        f"csmetrics: cannot read {flag}"
    )
    assert given in lines[0] or flag == "--health-weights"
    assert expected in lines[0]
    assert not out.exists()


def test_report_health_recipe_file_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml = tmp_path / "recipe.yaml"
    yaml.write_text("weights: {nps: 1}\n")
    args = ["report", *_health_tables(tmp_path), "--health-recipe", str(yaml)]
    assert main([*args, "--out", str(tmp_path / "r.html")]) == 2
    assert "unknown extension '.yaml'; use .json or .toml" in capsys.readouterr().err
    missing = str(tmp_path / "nope.json")
    args = ["report", *_health_tables(tmp_path), "--health-recipe", missing]
    assert main([*args, "--out", str(tmp_path / "r.html")]) == 2
    assert f"cannot read --health-recipe {missing}" in capsys.readouterr().err
