"""The ``csmetrics`` command line.

``csmetrics demo`` computes the survey metrics of a generated business by segment and month and
prints them.
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
    answers = datasets.survey_responses(
        args.responses, customers=args.customers, months=args.months, seed=args.seed
    )
    print(
        f"Generated {answers.height:,} survey answers from {args.customers:,} customers "
        f"over {args.months} months (seed {args.seed})."
    )
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=160, float_precision=2):
        print("\nNPS by segment (adjusted Wald 95% interval):")
        print(
            csm.nps(answers, score="nps", by="segment").select(
                "segment", "n", "promoter_share", "detractor_share", "nps", "nps_lower", "nps_upper"
            )
        )
        print("\nNPS by segment and month:")
        monthly = csm.nps(answers, score="nps", by="segment", period="month")
        print(monthly.select("segment", "period", "n", "nps", "nps_lower", "nps_upper"))
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
    demo = commands.add_parser("demo", help="survey metrics of a generated business")
    demo.add_argument("--responses", type=int, default=200_000, help="survey answers to generate")
    demo.add_argument("--customers", type=int, default=20_000, help="customers answering")
    demo.add_argument("--months", type=int, default=12, help="months of history")
    demo.add_argument("--seed", type=int, default=42, help="generator seed")
    args = parser.parse_args(argv)
    try:
        return _demo(args)
    except csm.CsMetricsError as err:
        print(f"csmetrics: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
