"""The ``csmetrics`` command line.

``csmetrics demo`` generates a synthetic subscription business and prints its MRR bridge, its
billing detail (net against contract MRR, cancellations against churn, churn by reason), revenue
KPIs, logo churn by segment and survey metrics by segment and period; with ``--out DIR`` it also
writes the business's tables to Parquet files there. ``csmetrics report --subscriptions
subs.parquet [--responses ...] --out report.html`` reads Parquet or CSV tables and writes the
self-contained HTML report (needs matplotlib); ``--health-weights nps=1,tickets=1,active_days=2``
and ``--health-recipe recipe.toml`` (or ``.json``) set the recipe of its health score.
``csmetrics report --stripe-subscriptions subs.jsonl --stripe-invoices invoices.jsonl
[--stripe-csv subscriptions.csv]`` reads a Stripe export instead of ``--subscriptions`` (with
its discounts), and ``--fx EUR=1.08,JPY=0.0065`` (or a CSV of ``currency,rate``) converts
several currencies into one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

import csmetrics as csm
from csmetrics import datasets


def _demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    business = datasets.saas(args.customers, months=args.months, seed=args.seed)
    subs = business.subscriptions.join(
        business.customers.select("customer_id", "segment"), on="customer_id"
    )
    answers = business.surveys
    print(
        f"Generated a business of {args.customers:,} customers over {args.months} months "
        f"(seed {args.seed}): {subs.height:,} subscriptions, {answers.height:,} survey answers."
    )
    options: dict[str, Any] = {"interval_count": "interval_count"}
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=2):
        print("\nMRR bridge, last six months (the last one is cut at as_of):")
        bridge = csm.mrr_bridge(subs, with_contract=True, **options)
        print(
            bridge.tail(6).select(
                "period",
                "complete",
                "starting_mrr",
                "new",
                "expansion",
                "contraction",
                "churned",
                "reactivation",
                "ending_mrr",
            )
        )
        print(
            "\nBilling detail, last six months: MRR net of discounts against the contract"
            " (list) MRR and the committed MRR (without the subscriptions asked to cancel),"
            " cancellation requests against churned customers, and churn by reason:"
        )
        print(
            bridge.tail(6).select(
                "period",
                "net_mrr",
                "contract_mrr",
                "committed_mrr",
                "cancellations",
                "churned_customers",
                pl.col("churned_voluntary_customers").alias("voluntary"),
                pl.col("churned_involuntary_customers").alias("involuntary"),
                pl.col("paused_customers").alias("paused"),
            )
        )
        print("\nRevenue KPIs, last six months:")
        kpis = csm.revenue_kpis(subs, window=12, **options)
        print(
            kpis.tail(6).select("period", "mrr", "arpa", "nrr", "grr", "quick_ratio", "nrr_window")
        )
        print("\nLogo churn by segment (Wilson 95% interval), last three months:")
        churn = csm.churn_rates(subs, by="segment", ci="wilson", **options)
        with pl.Config(float_precision=4):
            print(
                churn.group_by("segment", maintain_order=True)
                .tail(3)
                .select(
                    "segment",
                    "period",
                    "customers_start",
                    "churned",
                    "churn_rate",
                    "churn_lower",
                    "churn_upper",
                )
            )
        print("\nNPS by segment (adjusted Wald 95% interval):")
        print(
            csm.nps(answers, score="nps", by="segment").select(
                "segment", "n", "promoter_share", "detractor_share", "nps", "nps_lower", "nps_upper"
            )
        )
        print("\nNPS by segment and quarter:")
        quarterly = csm.nps(answers, score="nps", by="segment", period="quarter")
        print(quarterly.select("segment", "period", "n", "nps", "nps_lower", "nps_upper"))
        print("\nCSAT (top two boxes of 1-5) and CES (top three boxes of 1-7) by segment:")
        satisfaction = csm.csat(answers, score="csat", by="segment").select(
            "segment", "csat", pl.col("mean_score").alias("csat_mean")
        )
        effort = csm.ces(answers, score="ces", by="segment").select(
            "segment", "low_effort_share", pl.col("mean_score").alias("ces_mean")
        )
        print(satisfaction.join(effort, on="segment"))
        print("\nDo segments differ? Two-sample NPS tests:")
        print(
            csm.nps_compare(answers, score="nps", between="segment").select(
                "segment_a", "segment_b", "nps_a", "nps_b", "difference", "z", "p_value"
            )
        )
    _demo_journey(business)
    if args.stripe_customers > 0:
        _demo_stripe(business, args)
    if args.out is not None:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        for name in REPORT_TABLES:
            frame = getattr(business, "surveys" if name == "responses" else name)
            frame.write_parquet(folder / f"{name}.parquet")
        print(f"\nWrote the tables as Parquet files to {folder}/.")
    print(f"\nDone in {time.perf_counter() - started:.2f} s.")
    return 0


def _demo_journey(business: datasets.SaasData) -> None:
    """The onboarding funnel, the time to value, activation and the support times."""
    journey = list(datasets.MILESTONES)
    print("\nOnboarding funnel: share of customers reaching each milestone within 7 and 30 days:")
    funnel = csm.milestone_funnel(
        business.milestones, business.customers, journey=journey, window_days=[7, 30], cohort=None
    )
    print(funnel.select("window_days", "milestone", "eligible", "reached", "share", "conversion"))
    print("\nTime to each milestone in days (Kaplan-Meier, censored at the cut-off):")
    times = csm.time_to_milestone(business.milestones, business.customers, journey=journey)
    print(
        times.select("milestone", "reached", "censored", "median", "median_lower", "median_upper")
    )
    active = csm.activation(
        business.customers,
        milestones=business.milestones,
        milestone="data_connected",
        subscriptions=business.subscriptions,
        cohort=None,
    )
    rate = active.rates["activation_rate"][0]
    test = active.logrank.row(0, named=True)
    print(
        f"\nActivation (data connected within 14 days): {rate:.1%}; retention of activated "
        f"against other customers, log-rank chi2 = {test['statistic']:.1f}, "
        f"p = {test['p_value']:.2g}:"
    )
    print(active.retention.select("activated", "n", "events", "rmst"))
    print("\nSupport response times by priority (SLA 4 / 12 / 24 hours), last three months:")
    sla = {"high": 4, "normal": 12, "low": 24}
    support = csm.response_times(business.tickets, by="priority", sla_hours=sla)
    recent = sorted(set(support["period"].to_list()))[-3:]
    print(
        support.filter(pl.col("period").is_in(recent)).select(
            "priority",
            "period",
            "tickets",
            "first_response_median_hours",
            "first_response_p90_hours",
            "backlog",
            "sla_attainment",
        )
    )


def _demo_stripe(business: datasets.SaasData, args: argparse.Namespace) -> None:
    """The Stripe path end to end: the first customers written as a Stripe export (into
    ``--out``/stripe, else a temporary folder), read back with csmetrics.io.stripe, and the MRR
    of its subscriptions against the generator's own table."""
    import tempfile

    from csmetrics.io import stripe

    count = min(args.stripe_customers, args.customers)
    scratch = None
    if args.out is not None:
        folder = Path(args.out) / "stripe"
    else:
        scratch = tempfile.TemporaryDirectory(prefix="csmetrics-stripe-")
        folder = Path(scratch.name)
    try:
        started = time.perf_counter()
        written = datasets.write_stripe(business, folder, customers=count)
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        tables = stripe.read(
            subscriptions=folder / "subscriptions.jsonl", invoices=folder / "invoices.jsonl"
        )
        read = time.perf_counter() - started
    finally:
        if scratch is not None:
            scratch.cleanup()
    where = f" in {folder}/" if scratch is None else ""
    print(
        f"\nStripe export of customers 1 to {count:,} (API 2025-03-31){where}: "
        f"{written['subscriptions.jsonl']:,} subscriptions and {written['invoices.jsonl']:,} "
        f"invoices written in {wrote:.2f} s, read back with csmetrics.io.stripe in {read:.2f} s: "
        f"{tables.subscriptions.height:,} subscription rows, {tables.discounts.height:,} "
        f"discounts, {tables.invoice_lines.height:,} invoice lines; left out: "
        + (", ".join(f"{n:,} {what}" for what, n in tables.skipped.items()) or "nothing")
        + "."
    )
    generated = business.subscriptions.filter(pl.col("customer_id") <= count)
    as_of: dt.date = generated["start"].max()  # type: ignore[assignment]
    from_stripe = csm.mrr_bridge(tables.subscriptions, discounts=tables.discounts, as_of=as_of)
    from_table = csm.mrr_bridge(generated, interval_count="interval_count", as_of=as_of)
    from_lines = csm.mrr_bridge(tables.invoice_lines, table="invoices", as_of=as_of)
    last = from_stripe.row(from_stripe.height - 1, named=True)
    print(
        f"MRR in {last['period']:%B %Y} (cut at {as_of}): "
        f"{from_lines['ending_mrr'][-1]:,.2f} from the Stripe invoice lines (what was billed), "
        f"{last['ending_mrr']:,.2f} from the Stripe subscriptions (today's prices and seats), "
        f"{from_table['ending_mrr'][-1]:,.2f} from the generator's table of the same customers; "
        f"{from_lines['ending_customers'][-1]:,} paying customers by the invoices."
    )


#: The tables ``csmetrics report`` reads, in the order of its options.
REPORT_TABLES = (
    "subscriptions",
    "responses",
    "tickets",
    "usage",
    "costs",
    "trials",
    "conversions",
    "customers",
    "milestones",
)


class _Failure(Exception):
    """A one-line error for the command line."""


def _read_csv(path: str) -> pl.DataFrame:
    raw = Path(path).read_bytes()
    # Spreadsheets export UTF-16 with a byte-order mark; Polars reads UTF-8 only.
    source: bytes | io.BytesIO = raw
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        source = io.BytesIO(raw.decode("utf-16").encode("utf-8"))
    elif raw.startswith(b"\xef\xbb\xbf"):
        source = io.BytesIO(raw[3:])
    # Every row decides a column's type: an optional column (a cancellation date, a discount)
    # can be null in the first hundred rows (what Polars reads by default) and a date or a
    # number further down.
    frame = pl.read_csv(source, try_parse_dates=True, infer_schema_length=None)
    # A column empty in every row carries no type (a CSV says nothing): the Null dtype, which
    # every optional column accepts (an `end` no subscription has reached yet, say).
    empty = [c for c in frame.columns if frame.height and frame[c].null_count() == frame.height]
    return frame.with_columns(pl.col(c).cast(pl.Null) for c in empty) if empty else frame


def _read(name: str, path: str) -> pl.DataFrame:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix == ".csv":
            return _read_csv(path)
    except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _Failure(f"cannot read --{name} {path}: {first}") from None
    raise _Failure(
        f"cannot read --{name} {path}: unknown extension {suffix or '(none)'!r}; use .parquet or .csv"
    )


_WEIGHTS_FLAG = "--health-weights"
_WEIGHTS_SYNTAX = (
    "expected NAME=WEIGHT pairs separated by commas, such as nps=1,tickets=1,active_days=2"
)


def _health_weights(text: str) -> dict[str, Any]:
    """``nps=1,tickets=0.5`` as a mapping; the names and values are checked by the recipe."""
    weights: dict[str, Any] = {}
    for part in text.split(","):
        name, sep, value = (x.strip() for x in part.partition("="))
        if not sep or not name:
            raise _Failure(f"{_WEIGHTS_FLAG}: {_WEIGHTS_SYNTAX}; got {part.strip()!r}")
        if name in weights:
            raise _Failure(f"{_WEIGHTS_FLAG}: each component once; got {name!r} twice")
        try:
            weights[name] = float(value)
        except ValueError:
            raise _Failure(
                f"{_WEIGHTS_FLAG}: the weight of {name} must be a number >= 0; got {value!r}"
            ) from None
    return weights


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    try:
        tomli = importlib.import_module("tomli")
    except ImportError:
        raise _Failure("a TOML health recipe needs Python 3.11 or tomli; use .json") from None
    return tomli.loads(text)


def _health_recipe_file(path: str) -> dict[str, Any]:
    """The recipe of ``--health-recipe FILE`` (.json or .toml), checked."""
    from csmetrics.report import health_recipe

    flag = f"--health-recipe {path}"
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".toml"):
        raise _Failure(
            f"cannot read {flag}: unknown extension {suffix or '(none)'!r}; use .json or .toml"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
        recipe = json.loads(text) if suffix == ".json" else _toml(text)
    except (OSError, ValueError) as err:  # JSON and TOML syntax errors are ValueErrors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _Failure(f"cannot read {flag}: {first}") from None
    health_recipe(recipe, source=flag)
    return dict(recipe)


def _health_option(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``health=`` recipe of the report from ``--health-recipe`` and ``--health-weights``
    (whose weights replace the file's)."""
    from csmetrics.report import health_recipe

    recipe = _health_recipe_file(args.health_recipe) if args.health_recipe is not None else {}
    if args.health_weights is not None:
        recipe["weights"] = _health_weights(args.health_weights)
        health_recipe({"weights": recipe["weights"]}, source=_WEIGHTS_FLAG)
    return recipe or None


_FX_FLAG = "--fx"


def _fx(text: str) -> dict[str, float]:
    """``--fx``: ``EUR=1.08,JPY=0.0065`` or a CSV (or Parquet) file of ``currency`` and
    ``rate`` columns, as a mapping of rates into the reporting currency."""
    pairs: list[tuple[str, Any]]
    if "=" in text:
        pairs = [
            (part.partition("=")[0], part.partition("=")[2].strip()) for part in text.split(",")
        ]
        where = _FX_FLAG
    else:
        frame = _read("fx", text)
        missing = [c for c in ("currency", "rate") if c not in frame.columns]
        if missing:
            raise _Failure(f"{_FX_FLAG} {text}: the table has no {missing[0]!r} column")
        pairs = list(zip(frame["currency"].to_list(), frame["rate"].to_list(), strict=True))
        where = f"{_FX_FLAG} {text}"
    rates: dict[str, float] = {}
    for currency, rate in pairs:
        code = str(currency or "").strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise _Failure(
                f"{where}: expected CURRENCY=RATE pairs such as EUR=1.08,JPY=0.0065 or a CSV "
                f"of currency and rate; got currency {currency!r}"
            )
        try:
            value = float(rate)
        except (TypeError, ValueError):
            value = -1.0
        if not value > 0 or value == float("inf"):
            raise _Failure(f"{where}: the rate of {code} must be a number > 0; got {rate!r}")
        if code in rates:
            raise _Failure(f"{where}: each currency once; got {code} twice")
        rates[code] = value
    return rates


def _sla(text: str) -> float | dict[str, float]:
    """``--sla-hours``: a number of hours, or ``PRIORITY=HOURS`` pairs."""
    pairs = [part.partition("=") for part in text.split(",")] if "=" in text else []
    try:
        if not pairs:
            return float(text)
        return {name.strip(): float(hours) for name, _, hours in pairs}
    except ValueError:
        raise _Failure(
            f"--sla-hours {text!r}: expected hours such as 8, or per priority high=4,normal=24"
        ) from None


def _stripe_export(args: argparse.Namespace) -> Any:
    """The Stripe export of the ``--stripe-*`` options, read; None without them."""
    from csmetrics.report import stripe_tables

    paths = {
        "subscriptions": args.stripe_subscriptions,
        "invoices": args.stripe_invoices,
        "dashboard_csv": args.stripe_csv,
    }
    if all(p is None for p in paths.values()):
        return None
    if args.subscriptions is not None:
        raise _Failure("give --subscriptions or the --stripe-* files, not both")
    if args.stripe_subscriptions is None and args.stripe_csv is None:
        raise _Failure(
            "--stripe-invoices needs the subscriptions: --stripe-subscriptions or --stripe-csv"
        )
    export = stripe_tables({k: v for k, v in paths.items() if v is not None})
    left_out = ", ".join(f"{n:,} {what}" for what, n in export.skipped.items()) or "nothing"
    print(
        f"Read the Stripe export: {export.subscriptions['subscription_id'].n_unique():,} "
        f"subscriptions ({export.subscriptions.height:,} rows), "
        f"{export.discounts.height:,} discounts, {export.invoice_lines.height:,} invoice lines; "
        f"left out: {left_out}."
    )
    return export


def _report(args: argparse.Namespace) -> int:
    from csmetrics.report import report

    tables: dict[str, Any] = {
        name: _read(name, path)
        for name in REPORT_TABLES
        if (path := getattr(args, name)) is not None
    }
    if args.invoices is not None:
        tables["invoices"] = _read("invoices", args.invoices)
    export = _stripe_export(args)
    if not tables and export is None:
        raise _Failure(
            "give at least one input table, say --subscriptions subs.parquet, --invoices "
            "lines.parquet or --stripe-subscriptions subs.jsonl"
        )
    fx = _fx(args.fx) if args.fx is not None else None
    as_of = None
    if args.as_of is not None:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise _Failure(f"--as-of {args.as_of!r} is not a date YYYY-MM-DD") from None
    health = _health_option(args)
    headline: dict[str, str] = {}
    started = time.perf_counter()

    def progress(step: int, steps: int, name: str) -> None:
        print(f"[{step}/{steps}] {name}...", file=sys.stderr, flush=True)

    path = report(
        **tables,
        journey=None if args.journey is None else [m.strip() for m in args.journey.split(",")],
        activation=args.activation,
        sla_hours=_sla(args.sla_hours) if args.sla_hours is not None else None,
        period=args.period,
        as_of=as_of,
        out=args.out,
        title=args.title,
        progress=progress,
        headline=headline,
        health=health,
        fx=fx,
        stripe=export,
        revenue_from=args.revenue_from,
    )
    partial = headline.pop("partial", None)
    if headline:
        period = headline.pop("period", f"no complete {args.period} yet")
        print(f"Headline KPIs ({period}):")
        for label, value in headline.items():
            print(f"  {label:<18} {value}")
    if partial is not None:
        print(f"Partial {args.period}, shown as such and left out of the headline: {partial}")
    print(f"Report written to {path.resolve()} in {time.perf_counter() - started:.1f} s.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="csmetrics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="revenue, churn and survey metrics of a generated business"
    )
    demo.add_argument("--customers", type=int, default=50_000, help="customers to generate")
    demo.add_argument("--months", type=int, default=24, help="months of history")
    demo.add_argument("--seed", type=int, default=42, help="generator seed")
    demo.add_argument(
        "--out",
        help="also write the generated tables as Parquet files to this folder, and the Stripe "
        "export to its stripe/ folder",
    )
    demo.add_argument(
        "--stripe-customers",
        dest="stripe_customers",
        type=int,
        default=3_000,
        help="customers written as a Stripe export and read back (default 3000; 0 for none)",
    )
    rep = commands.add_parser("report", help="write the HTML report from Parquet or CSV tables")
    for name in REPORT_TABLES:
        rep.add_argument(f"--{name}", metavar="FILE", help=f"{name} table (.parquet or .csv)")
    rep.add_argument(
        "--invoices",
        metavar="FILE",
        help="invoice lines table (.parquet or .csv: customer_id, amount, period_start, "
        "period_end, kind, subscription_id, currency): the revenue and retention sections read "
        "them instead of the subscriptions",
    )
    rep.add_argument(
        "--revenue-from",
        choices=("auto", "invoices", "subscriptions"),
        default="auto",
        help="what the revenue and retention sections read: the invoice lines when there are "
        "recurring ones (auto, default), the invoice lines, or the subscriptions",
    )
    rep.add_argument(
        "--stripe-subscriptions",
        dest="stripe_subscriptions",
        metavar="FILE",
        help="Stripe subscription objects (JSON array or JSON lines, either API shape) instead "
        "of --subscriptions; their discounts come with them",
    )
    rep.add_argument(
        "--stripe-invoices",
        dest="stripe_invoices",
        metavar="FILE",
        help="Stripe invoice objects with their lines (credit notes, refunds, draft and void "
        "invoices are counted and left out)",
    )
    rep.add_argument(
        "--stripe-csv",
        dest="stripe_csv",
        metavar="FILE",
        help="the Stripe Dashboard's subscriptions CSV export (its subscriptions missing from "
        "--stripe-subscriptions are added)",
    )
    rep.add_argument(
        "--fx",
        metavar="RATES",
        help="rates into the reporting currency for several currencies: EUR=1.08,JPY=0.0065 "
        "or a .csv/.parquet table of currency and rate",
    )
    rep.add_argument(
        "--period",
        default="month",
        choices=["day", "week", "month", "quarter", "year"],
        help="reporting period (default month)",
    )
    rep.add_argument(
        "--as-of", dest="as_of", help="cut-off date YYYY-MM-DD (default: the data's last)"
    )
    rep.add_argument(
        "--journey",
        metavar="M1,M2,...",
        help="the onboarding milestones in order (default: by the customers reaching them)",
    )
    rep.add_argument(
        "--activation",
        metavar="MILESTONE",
        help="the activation milestone of the onboarding section (reached within 14 days)",
    )
    rep.add_argument(
        "--sla-hours",
        dest="sla_hours",
        metavar="HOURS",
        help="first-response SLA of the tickets: hours, or per priority high=4,normal=24",
    )
    rep.add_argument("--out", default="report.html", help="HTML file to write")
    rep.add_argument("--title", default="Customer-success report", help="report title")
    rep.add_argument(
        "--health-weights",
        dest="health_weights",
        metavar="NAME=W,...",
        help="weights of the health score's components, from nps (last NPS answer), tickets "
        "(tickets opened, fewer is healthier) and active_days (days with usage); a component "
        "left out or weighted 0 is not used (default nps=1,tickets=1,active_days=2)",
    )
    rep.add_argument(
        "--health-recipe",
        dest="health_recipe",
        metavar="FILE",
        help="health recipe as .json or .toml: weights (as --health-weights, which replaces "
        "them), window_days (default 90), bands [lower, upper] (default [40, 70]) and "
        "normalisation (minmax or percentile)",
    )
    args = parser.parse_args(argv)
    try:
        return _report(args) if args.command == "report" else _demo(args)
    except _Failure as err:
        print(f"csmetrics: {err}", file=sys.stderr)
    except (csm.CsMetricsError, OSError, pl.exceptions.PolarsError, ImportError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"csmetrics: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
