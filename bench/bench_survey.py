"""NPS by segment and month: csmetrics against idiomatic Polars (eager and lazy) and pandas.

The answers come from csmetrics' own deterministic generator, once per size; for each kind of
segment key (String, Categorical, an Int32 code) and of timestamp (Date, Datetime) they are
converted and written to Parquet, and each peer runs in its own process on that file, so
timings and peak memory do not leak between peers. pandas runs on String keys and Date
timestamps only. Every peer's NPS per segment and month is checked against csmetrics' (same
groups, same numbers within 1e-9 relative) before any time is printed; the script exits
non-zero if one differs. Prints the best of ``--repeat`` runs, peak resident memory above the
loaded data, and each peer's time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_survey.py                                    # 10M and 50M answers
    python bench/bench_survey.py --sizes 1000000 --keys string --instants date  # a quick run
"""

from __future__ import annotations

from typing import Any

import harness

PEERS = ["csmetrics", "csmetrics_plugin", "polars", "polars_lazy", "pandas"]
SLOW = {"pandas"}


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, float]:
    """Loads the data, runs one peer `repeat` times, writes its result and returns its
    figures."""
    import polars as pl

    if peer == "pandas":
        import pandas as pd

        data = pd.read_parquet(path)
        data["timestamp"] = pd.to_datetime(data["timestamp"])  # pandas users hold datetime64

        def compute(data: Any = data) -> object:
            frame = data.assign(
                period=data["timestamp"].dt.to_period("M"),
                promoter=data["nps"] >= 9,
                detractor=data["nps"] <= 6,
            )
            shares = frame.groupby(["segment", "period"])[["promoter", "detractor"]].mean()
            return ((shares["promoter"] - shares["detractor"]) * 100).rename("nps").reset_index()
    else:
        data = pl.read_parquet(path)
        period = pl.col("timestamp").dt.truncate("1mo").alias("period")
        nps = ((pl.col("nps") >= 9).mean() - (pl.col("nps") <= 6).mean()) * 100
        if peer == "polars":

            def compute(data: Any = data) -> object:
                return data.group_by("segment", period).agg(nps=nps)
        elif peer == "polars_lazy":

            def compute(data: Any = data) -> object:
                return data.lazy().group_by("segment", period).agg(nps=nps).collect()
        elif peer == "csmetrics":
            import csmetrics as csm

            def compute(data: Any = data) -> object:
                return csm.nps(data, score="nps", by="segment", period="month")
        else:
            from csmetrics import expr as cse

            def compute(data: Any = data) -> object:
                return data.group_by("segment", period).agg(nps=cse.nps("nps"))

    table, figures = harness.measure(compute, repeat, data.head(harness.SAMPLE))
    # Groups as text: segment (whatever its kind) and month (Date, Datetime or pandas Period).
    keys = [
        f"{s}|{str(p)[:7]}"
        for s, p in zip(list(table["segment"]), list(table["period"]), strict=True)  # type: ignore[index]
    ]
    harness.save_result(result, keys, {"nps": list(table["nps"])})  # type: ignore[index]
    return figures


def generate(size: int, folder: str):  # type: ignore[no-untyped-def]
    from csmetrics import datasets

    return datasets.survey_responses(size, customers=max(size // 10, 1), months=24, seed=7)


def main() -> None:
    parser = harness.parser(__doc__, [10_000_000, 50_000_000], 3, PEERS)
    args = harness.parse_args(parser, run_peer)

    harness.print_versions()
    print("NPS by segment (3) and month (24); best of", args.repeat, "runs")
    runs = harness.sweep(
        __file__,
        args,
        generate,
        lambda size, answers, seconds: f"{size:,} answers generated in {seconds:.1f} s",
        "answers",
        slow=SLOW,
        labels=["segment"],
        instants=["timestamp"],
    )
    runs.finish(["answers", "keys", "instants"], args.peers)


if __name__ == "__main__":
    main()
