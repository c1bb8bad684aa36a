"""NPS by segment and month: csmetrics against idiomatic Polars and pandas.

Each peer runs in its own process on the same Parquet file (generated once per size by
csmetrics' own deterministic generator), so timings and peak memory do not leak between peers.
Prints the best of ``--repeat`` runs, peak resident memory above the loaded data, and each peer's
time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_survey.py                      # 10M and 50M answers
    python bench/bench_survey.py --sizes 1000000      # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import harness

PEERS = ["csmetrics", "csmetrics_plugin", "polars", "pandas"]


def run_peer(peer: str, path: str, repeat: int) -> dict[str, float]:
    """Loads the data, runs one peer `repeat` times and returns its figures."""
    import polars as pl

    if peer == "pandas":
        import pandas as pd

        data = pd.read_parquet(path)
        data["timestamp"] = pd.to_datetime(data["timestamp"])  # pandas users hold datetime64

        def compute() -> object:
            frame = data.assign(
                period=data["timestamp"].dt.to_period("M"),
                promoter=data["nps"] >= 9,
                detractor=data["nps"] <= 6,
            )
            shares = frame.groupby(["segment", "period"])[["promoter", "detractor"]].mean()
            return (shares["promoter"] - shares["detractor"]) * 100
    else:
        data = pl.read_parquet(path)
        period = pl.col("timestamp").dt.truncate("1mo").alias("period")
        if peer == "polars":

            def compute() -> object:
                return data.group_by("segment", period).agg(
                    nps=((pl.col("nps") >= 9).mean() - (pl.col("nps") <= 6).mean()) * 100
                )
        elif peer == "csmetrics":
            import csmetrics as csm

            def compute() -> object:
                return csm.nps(data, score="nps", by="segment", period="month")
        else:
            from csmetrics import expr as cse

            def compute() -> object:
                return data.group_by("segment", period).agg(nps=cse.nps("nps"))

    _, figures = harness.measure(compute, repeat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 50_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peers", nargs="+", default=PEERS, choices=PEERS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.file, args.repeat)))
        return

    import polars as pl

    import csmetrics as csm
    from csmetrics import datasets

    print(f"csmetrics {csm.__version__}, polars {pl.__version__}, {os.cpu_count()} cores")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "answers.parquet")
            started = time.perf_counter()
            answers = datasets.survey_responses(
                size, customers=max(size // 10, 1), months=24, seed=7
            )
            answers.write_parquet(path)
            del answers
            print(
                f"\n{size:,} answers, 3 segments x 24 months (generated in {time.perf_counter() - started:.1f} s)"
            )
            figures = {}
            for peer in args.peers:
                result = harness.run_peer(__file__, peer, path, args.repeat)
                if isinstance(result, str):
                    print(f"{peer}: failed ({result})")
                    continue
                figures[peer] = result
            base = figures.get("csmetrics", next(iter(figures.values())))["seconds"]
            print(f"{'peer':<18}{'best s':>10}{'peak MB':>10}{'x csmetrics':>13}")
            for peer, f in figures.items():
                print(
                    f"{peer:<18}{f['seconds']:>10.3f}{f['peak_extra_mb']:>10.0f}{f['seconds'] / base:>13.2f}"
                )


if __name__ == "__main__":
    main()
