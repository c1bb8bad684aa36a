"""The HTML report and ``csmetrics report``: every section with its embedded chart, sections that
disappear with their table, CSV and Parquet inputs, one-line errors, and the page as Chromium draws
it.

Run as a script (``python tests/test_report.py report.html report.png``) it renders an existing
report to a PNG and checks it is not blank: ``make report-check`` does that on the demo report.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import csmetrics as csm  # noqa: E402
from csmetrics import datasets  # noqa: E402
from csmetrics.cli import REPORT_TABLES as TABLES  # noqa: E402
from csmetrics.cli import main  # noqa: E402

#: The sections of a report of the generated business (its subscriptions carry billing detail).
SECTIONS = [
    "kpis",
    "mrr-bridge",
    "billing",
    "churn-nrr",
    "cohorts",
    "survival",
    "nps",
    "voice",
    "onboarding",
    "support-times",
    "health",
    "scorecard",
]
#: Its charts: MRR bridge, net against contract MRR, churn by reason against cancellation
#: requests, churn, NRR, cohorts, survival, NPS, comment sentiment, the onboarding funnel, first
#: response times, health bands.
CHARTS = 12


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def render(html: Path, png: Path, *, height: int = 3000) -> Path:
    """Screenshot ``html`` with headless Chromium at 1200 x ``height`` pixels."""
    binary = _chromium()
    if binary is None:
        raise RuntimeError("no chromium binary on PATH")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                binary,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size=1200,{height}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return png


def distinct_colours(png: Path) -> int:
    """How many distinct RGB colours the image has."""
    import numpy as np
    from matplotlib import image

    pixels = image.imread(png)[..., :3]
    codes = (pixels * 255).round().astype(np.int64).reshape(-1, 3)
    return len(np.unique(codes[:, 0] * 65536 + codes[:, 1] * 256 + codes[:, 2]))


@pytest.fixture(scope="module")
def business() -> datasets.SaasData:
    return datasets.saas(800, months=15, seed=5)


def _tables(business: datasets.SaasData) -> dict[str, pl.DataFrame]:
    return {name: getattr(business, "surveys" if name == "responses" else name) for name in TABLES}


@pytest.fixture(scope="module")
def full_report(business, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return csm.report(**_tables(business), out=out, title="Test business")


def _sections(text: str) -> list[str]:
    return re.findall(r'<(?:section|div class="kpis") id="([a-z-]+)"', text)


def _billing_rows(text: str) -> list[dict[str, str]]:
    section = text.split('<section id="billing">', 1)[1].split("</section>", 1)[0]
    return _table_rows(section, "billing-table")


def test_report_has_every_section_and_embedded_chart(full_report: Path):
    text = full_report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<title>Test business</title>" in text
    assert sorted(_sections(text)) == sorted(SECTIONS)
    assert text.count("<img") == CHARTS
    assert text.count("data:image/png;base64,") == CHARTS
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', text)
    assert "Customers who need attention" in text and 'class="band-red"' in text
    for label in ("MRR", "NRR", "Logo churn", "NPS", "CSAT"):
        assert f'<div class="label">{label}</div>' in text
    # Scorecard rows in words, the machine name kept as the cell's title.
    assert 'id="scorecard-table"' in text
    assert '<td title="churn_rate">Logo churn rate</td>' in text
    assert '<td title="ces_low_effort">Low-effort share (CES)</td>' in text
    assert '<td title="crc">Customer retention cost</td>' in text
    scorecard = text.split('id="scorecard-table"', 1)[1].split("</table>", 1)[0]
    assert not re.search(r"<td>[a-z]+_[a-z_]+</td>", scorecard)


def test_generated_business_has_the_billing_section(business, full_report: Path):
    """The generated subscriptions carry billing detail: the section right after the MRR bridge,
    its two charts, and a table whose figures follow from the subscriptions."""
    text = full_report.read_text(encoding="utf-8")
    sections = _sections(text)
    assert sections[sections.index("mrr-bridge") + 1] == "billing"
    section = text.split('<section id="billing">', 1)[1].split("</section>", 1)[0]
    assert section.count("data:image/png;base64,") == 2
    rows = _billing_rows(text)
    assert list(rows[0]) == [
        "period",
        "net MRR",
        "contract MRR",
        "committed MRR",
        "cancellations",
        "churned customers",
        "voluntary",
        "involuntary",
        "unknown",
        "paused",
    ]
    # The business runs from January 2023 for 15 months: the last six months, newest first, the
    # last cut at the data's last day.
    assert [r["period"] for r in rows] == [
        "March 2024 (partial)",
        "February 2024",
        "January 2024",
        "December 2023",
        "November 2023",
        "October 2023",
    ]
    # Cancellation requests in plain Polars: the generator dates one on the last row of a paid
    # subscription (base plans only), so the requests of a month are its canceled_at dates.
    requests = (
        business.subscriptions.drop_nulls("canceled_at")
        .group_by(month=pl.col("canceled_at").dt.strftime("%B %Y"))
        .len()
    )
    by_month = dict(requests.iter_rows())
    for row in rows:
        month = row["period"].removesuffix(" (partial)")
        assert int(row["cancellations"]) == by_month.get(month, 0), month
        # Every churned customer has a reason: the generator gives one to every paid end.
        assert int(row["voluntary"]) + int(row["involuntary"]) == int(row["churned customers"])
        assert row["unknown"] == "0"

        def money(name: str, row: dict[str, str] = row) -> float:
            return float(row[name].replace(",", ""))

        assert money("committed MRR") <= money("net MRR") < money("contract MRR")
    assert sum(int(r["involuntary"]) for r in rows) > 0
    assert sum(int(r["paused"]) for r in rows) > 0


def test_missing_tables_leave_their_sections_out(business, tmp_path: Path):
    only_subs = csm.report(subscriptions=business.subscriptions, out=tmp_path / "subs.html")
    text = only_subs.read_text(encoding="utf-8")
    assert sorted(_sections(text)) == sorted(
        ["kpis", "mrr-bridge", "billing", "churn-nrr", "cohorts", "survival", "scorecard"]
    )
    assert text.count("data:image/png;base64,") == 7
    assert '<div class="label">NPS</div>' not in text

    surveys_only = csm.report(responses=business.surveys, out=tmp_path / "nps.html")
    text = surveys_only.read_text(encoding="utf-8")
    assert sorted(_sections(text)) == ["kpis", "nps", "scorecard", "voice"]
    assert text.count("data:image/png;base64,") == 2

    # Answers all after the cut-off: no period up to it, so no NPS section and no scorecard.
    first = business.surveys["timestamp"].min()
    before = csm.report(
        responses=business.surveys, as_of=first - dt.timedelta(days=40), out=tmp_path / "early.html"
    )
    text = before.read_text(encoding="utf-8")
    assert sorted(_sections(text)) == ["kpis", "no-data"]
    assert "data:image/png;base64," not in text


def test_report_accepts_pandas(business, full_report: Path, tmp_path: Path):
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    subs = business.subscriptions.to_pandas()
    # pandas holds the nullable whole numbers (duration_in_months) as floats.
    assert subs["duration_in_months"].dtype == "float64"
    path = csm.report(
        subscriptions=subs, responses=business.surveys.to_pandas(), out=tmp_path / "pandas.html"
    )
    text = path.read_text(encoding="utf-8")
    # Health from the NPS answers alone: every chart is there but the milestones' and tickets'.
    shown = [s for s in SECTIONS if s not in ("onboarding", "support-times")]
    assert sorted(_sections(text)) == sorted(shown)
    assert text.count("data:image/png;base64,") == CHARTS - 2
    # The same billing figures as from the Polars frames.
    assert _billing_rows(text) == _billing_rows(full_report.read_text(encoding="utf-8"))


def _write(business, folder: Path, suffix: str) -> list[str]:
    args = []
    for name, frame in _tables(business).items():
        path = folder / f"{name}{suffix}"
        if suffix == ".csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        args += [f"--{name}", str(path)]
    return args


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_writes_the_report(business, full_report: Path, tmp_path: Path, suffix: str, capsys):
    args = _write(business, tmp_path, suffix)
    out = tmp_path / "nested" / "report.html"
    assert main(["report", *args, "--period", "month", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Headline KPIs" in captured.out and "MRR" in captured.out and "NPS" in captured.out
    # The generated business ends in March 2024, cut at its last day: March is partial.
    assert "Headline KPIs (February 2024):" in captured.out
    assert "left out of the headline: March 2024 (data to 2024-03-31" in captured.out
    assert str(out.resolve()) in captured.out
    assert "[1/10] scorecard" in captured.err and "[10/10] writing" in captured.err
    text = out.read_text(encoding="utf-8")
    assert sorted(_sections(text)) == sorted(SECTIONS)
    assert text.count("data:image/png;base64,") == CHARTS
    # The billing columns survive the file (in a CSV, the mostly null dates and numbers too):
    # the same figures as from the frames themselves.
    assert _billing_rows(text) == _billing_rows(full_report.read_text(encoding="utf-8"))


def _fails(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(message) == 1, err
    assert "Traceback" not in err
    return message[0]


def test_cli_bad_inputs_exit_2_with_one_line(business, tmp_path: Path, capsys):
    out = str(tmp_path / "r.html")
    missing = _fails(
        ["report", "--subscriptions", str(tmp_path / "nope.parquet"), "--out", out], capsys
    )
    assert "nope.parquet" in missing

    (tmp_path / "subs.txt").write_text("a,b\n1,2\n")
    unknown = _fails(
        ["report", "--subscriptions", str(tmp_path / "subs.txt"), "--out", out], capsys
    )
    assert "unknown extension" in unknown

    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file")
    broken = _fails(
        ["report", "--subscriptions", str(tmp_path / "broken.parquet"), "--out", out], capsys
    )
    assert "broken.parquet" in broken

    no_amount = tmp_path / "subs.csv"
    business.subscriptions.drop("amount").write_csv(no_amount)
    column = _fails(["report", "--subscriptions", str(no_amount), "--out", out], capsys)
    assert "amount" in column

    assert _fails(["report", "--out", out], capsys).startswith("csmetrics: give at least one")
    assert not Path(out).exists()


def test_cli_in_a_subprocess_has_no_traceback(tmp_path: Path):
    bad = tmp_path / "subs.csv"
    bad.write_text("customer_id,start\n1,2024-01-01\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [sys.executable, "-m", "csmetrics", "report", "--subscriptions", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("csmetrics: missing column")


def _hand_subscriptions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["yearly", "weekly", "monthly", "gone"],
            "start": [
                dt.date(2026, 1, 15),
                dt.date(2026, 2, 2),
                dt.date(2026, 1, 1),
                dt.date(2026, 1, 1),
            ],
            "end": [None, None, None, dt.date(2026, 3, 10)],
            "amount": [1000.0, 10.0, 120.0, 60.0],
            "interval": ["year", "week", "month", "month"],
        }
    )


def test_attention_mrr_is_the_core_mrr(tmp_path: Path, attention_rows):
    subs = _hand_subscriptions()
    answers = pl.DataFrame(
        {
            "customer_id": ["yearly", "weekly", "monthly", "gone"],
            "timestamp": [dt.date(2026, 3, 1)] * 4,
            "nps": [2, 6, 9, 10],
        }
    )
    as_of = dt.date(2026, 3, 20)
    text = csm.report(
        subscriptions=subs, responses=answers, as_of=as_of, out=tmp_path / "r.html"
    ).read_text(encoding="utf-8")
    table = attention_rows(text)
    # Paying at the cut-off: "gone" ended on 10 March.
    assert sorted(table) == ["monthly", "weekly", "yearly"]
    core = csm.mrr(subs, as_of=as_of).filter(pl.col("period") == dt.date(2026, 3, 1))
    core_mrr = dict(zip(core["customer_id"], core["mrr"], strict=True))
    # By hand: 1000 a year / 12 and 10 a week * 365/84, half-even to 6 decimals (a 30.4375-day
    # month would give 43.482143 for the weekly one).
    assert core_mrr == {"yearly": 83.333333, "weekly": 43.452381, "monthly": 120.0}
    shown = {customer: row["mrr"] for customer, row in table.items()}
    assert shown == {c: f"{core_mrr[c]:,.2f}" for c in table}
    assert shown == {"yearly": "83.33", "weekly": "43.45", "monthly": "120.00"}
    # A subscription interval the core refuses is refused by the report too.
    odd = subs.with_columns(pl.Series("interval", ["year", "fortnight", "month", "month"]))
    with pytest.raises(csm.InvalidInputError, match="interval"):
        csm.report(subscriptions=odd, responses=answers, as_of=as_of, out=tmp_path / "x.html")


def test_health_recipe_from_python(tmp_path: Path, attention_rows):
    subs = _hand_subscriptions()
    answers = pl.DataFrame(
        {
            "customer_id": ["yearly", "weekly", "monthly"],
            "timestamp": [dt.date(2026, 3, 1)] * 3,
            "nps": [0, 4, 10],
        }
    )
    as_of = dt.date(2026, 3, 20)
    # NPS alone, percentile-scaled: mid-ranks 0, 1/2, 1 of three customers; bands 50 / 60.
    text = csm.report(
        subscriptions=subs,
        responses=answers,
        as_of=as_of,
        out=tmp_path / "r.html",
        health={"weights": {"nps": 2}, "normalisation": "percentile", "bands": [50, 60]},
    ).read_text(encoding="utf-8")
    rows = attention_rows(text)
    assert {c: (r["score"], r["band"]) for c, r in rows.items()} == {
        "yearly": ("0", "red"),
        "weekly": ("50", "yellow"),
        "monthly": ("100", "green"),
    }
    assert "Score 0-100 from the last NPS answer, weight 2; each scaled percentile" in text
    with pytest.raises(csm.InvalidInputError, match=r"health: unknown health component.*'usage'"):
        csm.report(subscriptions=subs, health={"weights": {"usage": 1}}, out=tmp_path / "x.html")
    with pytest.raises(csm.InvalidInputError, match="window_days must be a whole number"):
        csm.report(subscriptions=subs, health={"window_days": 1.5}, out=tmp_path / "x.html")


def test_headline_is_the_last_complete_period(tmp_path: Path):
    def trials_in(month: int, count: int, converted: int) -> list[dict[str, object]]:
        rows = []
        for i in range(count):
            start = dt.date(2026, month, 1 + i)
            end = start + dt.timedelta(days=14)
            rows.append(
                {
                    "customer_id": f"t{month}-{i}",
                    "trial_start": start,
                    "trial_end": end,
                    "converted_at": end if i < converted else None,
                }
            )
        return rows

    # January 4 of 10 convert, February 3 of 10; March (partial at the cut-off) 3 of the 4
    # started so far, with the fourth's window still open: 100% of those decided.
    trials = pl.DataFrame(
        trials_in(1, 10, 4) + trials_in(2, 10, 3) + trials_in(3, 4, 3),
        schema_overrides={"converted_at": pl.Date},
    )
    as_of = dt.date(2026, 3, 20)
    independent = csm.trial_conversion(trials, as_of=as_of)
    assert independent["conversion_rate"].to_list() == [0.4, 0.3, 1.0]
    headline: dict[str, str] = {}
    path = csm.report(
        subscriptions=_hand_subscriptions(),
        trials=trials,
        as_of=as_of,
        out=tmp_path / "r.html",
        headline=headline,
    )
    assert headline["period"] == "February 2026"
    assert headline["partial"] == "March 2026 (data to 2026-03-20)"
    assert headline["Trial conversion"] == "30.0%"  # February's 3 / 10, not March's 100%
    # February's MRR at its end, by hand: 1000 / 12 + 10 * 365/84 + 120 + 60 (March: 246.79).
    assert headline["MRR"] == f"{83.333333 + 43.452381 + 120 + 60:,.0f}" == "307"
    text = path.read_text(encoding="utf-8")
    assert "headline figures for February 2026, the last complete month" in text
    assert '<th class="partial">March 2026 (partial)</th>' in text
    assert '<td class="partial">100.0%</td>' in text  # March is shown, as partial
    assert '<div class="label">Trial conversion</div><div class="value">30.0%</div>' in text

    # By week: the week holding the cut-off (Monday 16 March) is partial; the MRR at the end of
    # the week of 9 March no longer has "gone" (ended 10 March).
    weekly: dict[str, str] = {}
    csm.report(
        subscriptions=_hand_subscriptions(),
        as_of=as_of,
        period="week",
        out=tmp_path / "w.html",
        headline=weekly,
    )
    assert weekly["period"] == "week of 2026-03-09"
    assert weekly["partial"] == "week of 2026-03-16 (data to 2026-03-20)"
    assert weekly["MRR"] == f"{83.333333 + 43.452381 + 120:,.0f}" == "247"

    # Without as_of the cut-off is the data's end: the latest trial start (4 March) or
    # conversion (17 March, of the trial started on 3 March).
    default: dict[str, str] = {}
    csm.report(trials=trials, out=tmp_path / "d.html", headline=default)
    assert default["period"] == "February 2026"
    assert default["partial"] == "March 2026 (data to 2026-03-17)"
    assert default["Trial conversion"] == "30.0%"

    # No complete period yet: no headline value at all, never the partial one's.
    early: dict[str, str] = {}
    csm.report(trials=trials, as_of=dt.date(2026, 1, 31), out=tmp_path / "e.html", headline=early)
    assert "period" not in early and early["Trial conversion"] == "-"
    assert early["partial"] == "January 2026 (data to 2026-01-31)"


def _billing_subscriptions() -> pl.DataFrame:
    """Five monthly customers from 1 January 2026 with billing detail: ``a`` 2 seats of 100 at
    10% off for ever; ``b`` (50) asks to cancel on 10 February and leaves on 20 March; ``c`` (30)
    leaves on 5 March after a failed payment; ``d`` (20) asks on 15 March and leaves on 10 April,
    no reason given; ``e`` (40, 5 off for ever) pauses for March."""
    d = dt.date
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "e", "e"],
            "subscription_id": ["sa", "sb", "sc", "sd", "se", "se", "se"],
            "start": [d(2026, 1, 1)] * 5 + [d(2026, 3, 1), d(2026, 4, 1)],
            "end": [
                None,
                d(2026, 3, 20),
                d(2026, 3, 5),
                d(2026, 4, 10),
                d(2026, 3, 1),
                d(2026, 4, 1),
                None,
            ],
            "amount": [100.0, 50.0, 30.0, 20.0, 40.0, 40.0, 40.0],
            "interval": ["month"] * 7,
            "quantity": [2, 1, 1, 1, 1, 1, 1],
            "status": ["active", "canceled", "canceled", "canceled", "active", "paused", "active"],
            "canceled_at": [None, d(2026, 2, 10), None, d(2026, 3, 15), None, None, None],
            "churn_reason": [None, "cancellation_requested", "payment_failed"] + [None] * 4,
            "percent_off": [10.0] + [None] * 6,
            "amount_off": [None] * 4 + [5.0] * 3,
        }
    )


def _table_rows(text: str, table_id: str) -> list[dict[str, str]]:
    table = text.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th>(.*?)</th>", table)
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    return [dict(zip(head, re.findall(r"<td[^>]*>(.*?)</td>", row), strict=True)) for row in rows]


def test_billing_detail_section(tmp_path: Path):
    subs = _billing_subscriptions()
    as_of = dt.date(2026, 4, 20)
    text = csm.report(subscriptions=subs, as_of=as_of, out=tmp_path / "b.html").read_text(
        encoding="utf-8"
    )
    # Right after the MRR bridge, with its two charts (net against contract MRR; churn by reason
    # against cancellation requests).
    sections = _sections(text)
    assert sections[sections.index("mrr-bridge") + 1] == "billing"
    section = text.split('<section id="billing">', 1)[1].split("</section>", 1)[0]
    assert section.count("data:image/png;base64,") == 2
    assert 'alt="Net, contract and committed MRR"' in section
    assert 'alt="Churned customers by reason and cancellation requests"' in section
    assert text.count("data:image/png;base64,") == 5 + 2
    # By hand, newest first (April is partial: MRR at the cut-off, 20 April).
    # Contract: a 2 x 100 = 200, b 50, c 30, d 20, e 40: 340 in January and February. Net: a
    # 10% off (180) and e 5 off (35): 315. March: b (20 March) and c (5 March) have left, e is
    # paused at $0: contract 200 + 20 = 220, net 180 + 20 = 200. April: d left on 10 April, e is
    # back: contract 200 + 40 = 240, net 180 + 35 = 215.
    # Committed: without b from its request (February: 315 - 50 = 265), without d from its
    # (March: 200 - 20 = 180); April has no request left running: 215.
    # Churned customers: March b (asked: voluntary) and c (payment failed: involuntary); April d
    # (no reason: unknown). Cancellations: b in February, d in March. Paused: e at March's end.
    money = ["net MRR", "contract MRR", "committed MRR"]
    counts = ["cancellations", "churned customers", "voluntary", "involuntary", "unknown"]
    expected = [
        ("April 2026 (partial)", 215, 240, 215, 0, 1, 0, 0, 1, 0),
        ("March 2026", 200, 220, 180, 1, 2, 1, 1, 0, 1),
        ("February 2026", 315, 340, 265, 1, 0, 0, 0, 0, 0),
        ("January 2026", 315, 340, 315, 0, 0, 0, 0, 0, 0),
    ]
    rows = _table_rows(section, "billing-table")
    assert list(rows[0]) == ["period", *money, *counts, "paused"]
    assert rows == [
        {
            "period": row[0],
            **{m: f"{v:,.2f}" for m, v in zip(money, row[1:4], strict=True)},
            **{c: str(v) for c, v in zip([*counts, "paused"], row[4:], strict=True)},
        }
        for row in expected
    ]
    # Against the core: the voluntary / involuntary / unknown split sums to the churned
    # customers, and net MRR is the MRR of the bridge.
    for row in rows:
        assert int(row["voluntary"]) + int(row["involuntary"]) + int(row["unknown"]) == int(
            row["churned customers"]
        )
    bridge = csm.mrr_bridge(subs, as_of=as_of)
    assert [r["net MRR"] for r in reversed(rows)] == [f"{v:,.2f}" for v in bridge["ending_mrr"]]

    # Seats alone are billing detail too: net and contract MRR, no churn chart.
    seats = csm.report(
        subscriptions=_hand_subscriptions().with_columns(quantity=pl.lit(1)),
        as_of=dt.date(2026, 3, 20),
        out=tmp_path / "s.html",
    ).read_text(encoding="utf-8")
    section = seats.split('<section id="billing">', 1)[1].split("</section>", 1)[0]
    assert section.count("data:image/png;base64,") == 1
    assert list(_table_rows(section, "billing-table")[0]) == [
        "period",
        "net MRR",
        "contract MRR",
        "churned customers",
    ]
    # Without any billing column: no section.
    plain = csm.report(
        subscriptions=subs.drop(
            "quantity", "status", "canceled_at", "churn_reason", "percent_off", "amount_off"
        ),
        as_of=as_of,
        out=tmp_path / "p.html",
    ).read_text(encoding="utf-8")
    assert "billing" not in _sections(plain) and "Billing detail" not in plain


@pytest.fixture(scope="module")
def billing_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("billing") / "report.html"
    return csm.report(subscriptions=_billing_subscriptions(), as_of=dt.date(2026, 4, 20), out=out)


@pytest.mark.skipif(
    _chromium() is None, reason="no chromium binary on PATH (apt-get install chromium)"
)
def test_report_renders_in_chromium(full_report: Path, tmp_path: Path):
    png = render(full_report, tmp_path / "report.png")
    assert png.exists() and png.stat().st_size > 50_000
    # A blank or broken page has a handful of colours; the charts bring thousands.
    assert distinct_colours(png) > 500


@pytest.mark.skipif(
    _chromium() is None, reason="no chromium binary on PATH (apt-get install chromium)"
)
def test_billing_report_renders_in_chromium(billing_report: Path, tmp_path: Path):
    png = render(billing_report, tmp_path / "billing.png")
    assert png.exists() and distinct_colours(png) > 500


if __name__ == "__main__":
    html, png = Path(sys.argv[1]), Path(sys.argv[2])
    render(html, png, height=5000)
    colours = distinct_colours(png)
    print(f"{png}: {colours} distinct colours")
    sys.exit(0 if colours > 500 else 1)


def test_voice_of_the_customer_section(business, tmp_path: Path):
    text = csm.report(
        responses=business.surveys,
        themes=datasets.feedback_dictionary(),
        out=tmp_path / "voice.html",
    ).read_text(encoding="utf-8")
    section = text.split('<section id="voice">', 1)[1].split("</section>", 1)[0]
    # Themes by impact (chart and table) and sentiment per period.
    assert section.count("data:image/png;base64,") == 2
    ranked = csm.themes(business.surveys, datasets.feedback_dictionary(), score="nps")
    rows = _table_rows(section, "voice-themes")
    assert [r["theme"] for r in rows] == ranked["theme"].to_list()
    assert rows[0]["theme"] == "billing"  # the generator's planted driver of detractors
    assert "<th>detractors write</th>" in section
    assert section.count("<li><b>") >= 2  # detractor quotes of the themes that cost most
    # Without a comment column there is no such section.
    plain = csm.report(
        responses=business.surveys.drop("comment"), out=tmp_path / "plain.html"
    ).read_text(encoding="utf-8")
    assert '<section id="voice">' not in plain
