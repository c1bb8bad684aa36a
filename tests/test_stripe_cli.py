"""The report of a Stripe export: ``csmetrics report --stripe-subscriptions ... --stripe-invoices
... --fx ...`` and ``csmetrics.report(stripe=...)`` on the fixtures of tests/data/stripe and on
the generated business written by ``datasets.write_stripe``; its figures against
``csm.mrr_bridge`` on the reader's tables and against hand sums."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

import csmetrics as csm
from csmetrics import datasets
from csmetrics.cli import main
from csmetrics.io import stripe

# The report draws its charts with matplotlib (the lowest-versions environment has none).
pytest.importorskip("matplotlib")

DATA = Path(__file__).parent / "data" / "stripe"
FILES = {
    "2024": (DATA / "v2024" / "subscriptions.jsonl", DATA / "v2024" / "invoices.jsonl"),
    "2025": (DATA / "v2025" / "subscriptions.json", DATA / "v2025" / "invoices.jsonl"),
}
FX = {"EUR": 1.0, "JPY": 0.0062}
SECTIONS = ["kpis", "mrr-bridge", "billing", "churn-nrr", "cohorts", "survival", "stripe"]


def _sections(text: str) -> list[str]:
    return re.findall(r'<(?:section|div class="kpis") id="([a-z-]+)"', text)


def _rows(text: str, table_id: str) -> list[dict[str, str]]:
    table = text.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th>(.*?)</th>", table)
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    return [dict(zip(head, re.findall(r"<td[^>]*>(.*?)</td>", row), strict=True)) for row in rows]


def _scorecard(text: str) -> str:
    return text.split('id="scorecard-table"', 1)[1].split("</table>", 1)[0]


def _kpi(text: str, label: str) -> str:
    found = re.search(rf'<div class="label">{label}</div><div class="value">([^<]*)</div>', text)
    assert found is not None, label
    return found.group(1)


def _cli(args: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["report", *args, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    return out.read_text(encoding="utf-8"), captured.out


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(message) == 1, err
    return message[0]


@pytest.mark.parametrize("version", ["2024", "2025"])
def test_cli_reports_the_fixture_export_with_the_bridges_figures(
    version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs, invoices = FILES[version]
    args = ["--stripe-subscriptions", str(subs), "--stripe-invoices", str(invoices)]
    # The fixtures' invoices are a few stories, not the history: the subscriptions for revenue.
    args += ["--revenue-from", "subscriptions"]
    text, printed = _cli([*args, "--fx", "EUR=1,JPY=0.0062"], tmp_path / "r.html", capsys)
    assert _sections(text) == [*SECTIONS, "scorecard"]
    assert (
        "Read the Stripe export: 10 subscriptions (14 rows), 3 discounts, 11 invoice lines; "
        "left out: 1 credit_note objects, 1 metered subscription items, 1 void invoices."
    ) in printed
    tables = stripe.read(subscriptions=subs, invoices=invoices)
    bridge = csm.mrr_bridge(
        tables.subscriptions, discounts=tables.discounts, fx=FX, with_contract=True
    )
    # The billing table, newest first, is the bridge's last six months.
    rows = _rows(text, "billing-table")
    recent = bridge.tail(6).reverse()
    assert [r["net MRR"] for r in rows] == [f"{v:,.2f}" for v in recent["ending_mrr"]]
    assert [r["contract MRR"] for r in rows] == [f"{v:,.2f}" for v in recent["contract_mrr"]]
    assert [int(r["churned customers"]) for r in rows] == recent["churned_customers"].to_list()
    assert rows[0]["period"] == "June 2024 (partial)"
    # May by hand: acme 5 x 19.99 less 10%, bolt 3 x 49, cedar 25 (its coupon ran out on
    # May 1), dune 29, fjord 15, glen 468 / 12, hale 30, juno 1200 yen a quarter at 0.0062.
    may = 5 * 19.99 * 0.9 + 3 * 49 + 25 + 29 + 15 + 468 / 12 + 30 + 1200 / 3 * 0.0062
    assert bridge.filter(pl.col("period") == dt.date(2024, 5, 1))["ending_mrr"].item() == (
        pytest.approx(may, abs=1e-9)
    )
    assert rows[1]["net MRR"] == f"{may:,.2f}"
    # The headline is May's (June is partial): its MRR rounded, 8 paying customers.
    assert _kpi(text, "MRR") == f"{may:,.0f}" == "377"
    assert _kpi(text, "Paying customers") == "8"
    assert "Headline KPIs (May 2024):" in printed
    # April's churn: iris (payment failed), one of nine customers.
    assert _kpi(text, "Logo churn") == "0.0%"
    churn = csm.churn_rates(
        tables.subscriptions.with_columns(pl.col("amount").cast(pl.Float64)).filter(
            pl.col("currency") == "EUR"
        ),
        discounts=tables.discounts,
    )
    assert churn.filter(pl.col("period") == dt.date(2024, 4, 1))["churned"].item() == 1
    stripe_rows = {r["read"]: r["count"] for r in _rows(text, "stripe-table")}
    assert stripe_rows == {
        "subscriptions": "10",
        "subscription rows (status spells)": "14",
        "customers": "10",
        "discounts": "3",
        "invoice lines": "11",
        "invoice lines: one_time": "1",
        "invoice lines: proration": "2",
        "invoice lines: subscription": "7",
        "invoice lines: usage": "1",
        "left out: credit_note objects": "1",
        "left out: metered subscription items": "1",
        "left out: void invoices": "1",
        # June 5, the cut-off: no invoice line covers it; the subscriptions' MRR is the
        # bridge's last.
        "MRR at the cut-off from the invoice lines": "0.00",
        "MRR at the cut-off from the subscriptions": f"{bridge['ending_mrr'][-1]:,.2f}",
    }
    assert "Currencies: EUR, JPY." in text
    assert "Here they differ by more than 10%" in text


def test_the_revenue_sections_read_the_invoice_lines_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs, invoices = FILES["2025"]
    args = ["--stripe-subscriptions", str(subs), "--stripe-invoices", str(invoices)]
    text, printed = _cli([*args, "--fx", "EUR=1,JPY=0.0062"], tmp_path / "r.html", capsys)
    # May by the invoices: only juno's quarter from March 1 (1200 yen, 400 a month at 0.0062)
    # covers May 31; bolt's last month ended May 10, acme's and dune's earlier.
    assert _kpi(text, "MRR") == f"{400 * 0.0062:,.0f}" == "2"
    assert _kpi(text, "Paying customers") == "1"
    assert "Headline KPIs (May 2024):" in printed
    # The billing detail is still the subscriptions': the same table as from the subscriptions.
    by_subs, _ = _cli(
        [*args, "--fx", "EUR=1,JPY=0.0062", "--revenue-from", "subscriptions"],
        tmp_path / "s.html",
        capsys,
    )
    assert _rows(text, "billing-table") == _rows(by_subs, "billing-table")
    assert _kpi(by_subs, "MRR") == "377"
    with pytest.raises(SystemExit):
        main(["report", *args, "--revenue-from", "bills"])


def test_python_report_takes_the_tables_or_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs, invoices = FILES["2025"]
    tables = stripe.read(subscriptions=subs, invoices=invoices)
    from_tables = csm.report(stripe=tables, fx=FX, out=tmp_path / "a.html").read_text("utf-8")
    from_paths = csm.report(
        stripe={"subscriptions": subs, "invoices": invoices}, fx=FX, out=tmp_path / "b.html"
    ).read_text("utf-8")
    from_cli, _ = _cli(
        [
            "--stripe-subscriptions",
            str(subs),
            "--stripe-invoices",
            str(invoices),
            "--fx",
            "EUR=1,JPY=0.0062",
        ],
        tmp_path / "c.html",
        capsys,
    )
    for text in (from_paths, from_cli):
        for table in ("billing-table", "stripe-table"):
            assert _rows(text, table) == _rows(from_tables, table)
        assert _scorecard(text) == _scorecard(from_tables)
    # The same subscriptions and discounts given as tables make the same figures.
    plain = csm.report(
        subscriptions=tables.subscriptions,
        discounts=tables.discounts,
        fx=FX,
        out=tmp_path / "d.html",
    ).read_text("utf-8")
    assert _rows(plain, "billing-table") == _rows(from_tables, "billing-table")
    assert "stripe" not in _sections(plain)
    # Without the discounts, acme's 10% and the others' coupons are not taken off.
    undiscounted = csm.report(
        subscriptions=tables.subscriptions, fx=FX, out=tmp_path / "e.html"
    ).read_text("utf-8")
    may = _rows(undiscounted, "billing-table")[1]
    assert (
        may["net MRR"]
        == may["contract MRR"]
        == _rows(from_tables, "billing-table")[1]["contract MRR"]
    )


def test_fx_from_a_csv_file_and_the_dashboard_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs, invoices = FILES["2024"]
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1\nJPY,0.0062\n")
    args = ["--stripe-subscriptions", str(subs), "--stripe-invoices", str(invoices)]
    by_file, _ = _cli([*args, "--fx", str(rates)], tmp_path / "a.html", capsys)
    by_text, _ = _cli([*args, "--fx", "eur=1, jpy=0.0062"], tmp_path / "b.html", capsys)
    assert _rows(by_file, "billing-table") == _rows(by_text, "billing-table")
    # The Dashboard CSV's six subscriptions are all in the JSON: the JSON's are kept.
    both, printed = _cli(
        [*args, "--stripe-csv", str(DATA / "dashboard_subscriptions.csv"), "--fx", str(rates)],
        tmp_path / "c.html",
        capsys,
    )
    assert _rows(both, "billing-table") == _rows(by_file, "billing-table")
    assert "6 Dashboard CSV subscriptions also in the JSON" in printed
    # The Dashboard CSV alone: its subscriptions, no discounts and no invoices.
    alone, printed = _cli(
        ["--stripe-csv", str(DATA / "dashboard_subscriptions.csv"), "--fx", str(rates)],
        tmp_path / "d.html",
        capsys,
    )
    dashboard = stripe.read_dashboard_csv(DATA / "dashboard_subscriptions.csv")
    bridge = csm.mrr_bridge(dashboard.subscriptions, fx=FX)
    assert [r["net MRR"] for r in _rows(alone, "billing-table")] == [
        f"{v:,.2f}" for v in bridge.tail(6).reverse()["ending_mrr"]
    ]
    assert "0 discounts, 0 invoice lines; left out: nothing." in printed


def test_stripe_options_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs, invoices = FILES["2024"]
    out = str(tmp_path / "r.html")
    args = ["report", "--stripe-subscriptions", str(subs), "--out", out]
    assert "fx" in _fails(args, capsys)  # EUR and JPY without rates
    assert "CURRENCY=RATE" in _fails([*args, "--fx", "EUR=1,JP=2"], capsys)
    assert "rate of JPY must be a number > 0; got '-1'" in _fails(
        [*args, "--fx", "EUR=1,JPY=-1"], capsys
    )
    assert "EUR twice" in _fails([*args, "--fx", "EUR=1,eur=2"], capsys)
    assert "needs a rate in the fx= table; found 'JPY'" in _fails([*args, "--fx", "EUR=1"], capsys)
    assert "needs the subscriptions" in _fails(
        ["report", "--stripe-invoices", str(invoices), "--out", out], capsys
    )
    plain = tmp_path / "subs.csv"
    plain.write_text("customer_id,start,amount\n1,2024-01-01,10\n")
    assert "not both" in _fails([*args, "--subscriptions", str(plain)], capsys)
    broken = tmp_path / "subs.jsonl"
    broken.write_text('{"id": "sub_1", "object": "subscription", "status": "active"}\n')
    message = _fails(["report", "--stripe-subscriptions", str(broken), "--out", out], capsys)
    assert "subs.jsonl: subscription sub_1 has no start_date" in message
    assert not Path(out).exists()
    with pytest.raises(csm.InvalidInputError, match="not both"):
        csm.report(subscriptions=pl.read_csv(plain), stripe={"subscriptions": subs}, out=out)
    with pytest.raises(csm.InvalidInputError, match="mapping of paths"):
        csm.report(stripe={"subs": subs}, out=out)


def test_the_generated_business_through_its_stripe_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    business = datasets.saas(250, months=12, seed=8)
    datasets.write_stripe(business, tmp_path, api_version="2024-12-18")
    subs, invoices = tmp_path / "subscriptions.jsonl", tmp_path / "invoices.jsonl"
    text, printed = _cli(
        ["--stripe-subscriptions", str(subs), "--stripe-invoices", str(invoices)],
        tmp_path / "r.html",
        capsys,
    )
    assert [s for s in _sections(text) if s != "scorecard"] == SECTIONS
    tables = stripe.read(subscriptions=subs, invoices=invoices)
    bridge = csm.mrr_bridge(tables.subscriptions, discounts=tables.discounts, with_contract=True)
    rows = _rows(text, "billing-table")
    assert [r["net MRR"] for r in rows] == [
        f"{v:,.2f}" for v in bridge.tail(6).reverse()["ending_mrr"]
    ]
    # At the last month the current state is the generator's: the same MRR from its own table.
    generated = csm.mrr_bridge(business.subscriptions, interval_count="interval_count")
    assert bridge["period"][-1] == generated["period"][-1]
    assert bridge["ending_mrr"][-1] == pytest.approx(generated["ending_mrr"][-1], abs=1e-6)
    assert f"{business.subscriptions['subscription_id'].n_unique():,} subscriptions" in printed
    assert f"{tables.invoice_lines.height:,} invoice lines" in printed
