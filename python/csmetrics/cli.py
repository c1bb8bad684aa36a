"""The ``csmetrics`` command line.

``csmetrics demo`` generates a synthetic subscription business and prints its MRR bridge, revenue
KPIs, logo churn by segment and survey metrics by segment and period.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

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
    options = {"interval_count": "interval_count"}
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=2):
        print("\nMRR bridge, last six months (the last one is cut at as_of):")
        bridge = csm.mrr_bridge(subs, **options)
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
    print(f"\nDone in {time.perf_counter() - started:.2f} s.")
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
    args = parser.parse_args(argv)
    try:
        return _demo(args)
    except csm.CsMetricsError as err:
        print(f"csmetrics: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
