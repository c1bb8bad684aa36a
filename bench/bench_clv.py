"""Transaction log -> RFM summary -> BG/NBD + Gamma-Gamma fit -> 12-month CLV of every customer:
csmetrics against lifetimes 0.11.3, and the RFM summary against idiomatic Polars.

The transactions come from a seeded BG/NBD simulator in this script (numpy only): customers
arrive uniformly over a year, buy at Poisson rates while alive and drop out after each repeat
purchase, about 5 purchases each; spend per purchase follows Gamma-Gamma. For each kind of
customer key (String, Categorical, integer) and of timestamp (Date, Datetime) the log is
written to Parquet; each peer runs in its own process (lifetimes in its own virtual
environment, ``.venv-lifetimes``, because it needs pandas 1.x, on String keys and Date
timestamps only, from a numpy file), so timings and peak memory do not leak between peers.

Polars has no BG/NBD fit: its peer is the RFM summary (frequency, recency, T and monetary value
per customer), compared with csmetrics' summary stage (the ``summary`` rows); the ``pipeline``
rows are the whole job. Every peer's summary is checked against csmetrics' (same customers,
same numbers within 1e-9 relative), and lifetimes' fitted parameters, mean CLV and every
customer's CLV against csmetrics' (within ``--fit-rtol``: two optimisers), before any time is
printed; the script exits non-zero if one differs. Prints the best of ``--repeat`` runs, peak resident memory above the
loaded data, and each peer's time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_clv.py                                  # 100k and 1M customers
    python bench/bench_clv.py --sizes 100000 1000000 10000000  # adds 10M (no lifetimes there)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
LIFETIMES_PYTHON = ROOT / ".venv-lifetimes" / "bin" / "python"
PEERS = ["csmetrics", "polars", "lifetimes"]
START = "2020-01-01"
END_DAY = 729  # observation end, days after START (inclusive): two years
SUMMARY = ["frequency", "recency", "T", "monetary_value"]


def simulate(customers: int, seed: int) -> dict[str, object]:
    """customer_id, day (days after START) and amount arrays."""
    import numpy as np

    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.9, 30.0, 1.2, 5.0  # alpha in days
    p_spend, q_spend, gamma_spend = 6.0, 3.5, 15.0
    rate = rng.gamma(r, 1.0 / alpha, customers)
    drop = rng.beta(a, b, customers)
    scale = rng.gamma(q_spend, 1.0 / gamma_spend, customers)  # nu of each customer
    first = rng.integers(0, 365, customers)
    ids_parts = [np.arange(customers, dtype=np.int64)]
    day_parts = [first.astype(np.int32)]
    time_now = first.astype(np.float64)
    alive = np.ones(customers, dtype=bool)
    index = np.arange(customers, dtype=np.int64)
    while True:
        live = index[alive]
        if live.size == 0:
            break
        time_now[live] += rng.exponential(1.0, live.size) / rate[live]
        inside = time_now[live] <= END_DAY + 1 - 1e-9
        buyers = live[inside]
        ids_parts.append(buyers)
        day_parts.append(np.floor(time_now[buyers]).astype(np.int32))
        # Out of the window, or dropping out after this repeat purchase.
        alive[live[~inside]] = False
        alive[buyers[rng.random(buyers.size) < drop[buyers]]] = False
    ids = np.concatenate(ids_parts)
    days = np.concatenate(day_parts)
    amounts = np.round(rng.gamma(p_spend, 1.0, ids.size) / scale[ids], 2) + 0.01
    return {"customer_id": ids, "day": days, "amount": amounts}


def _stages(stages, repeat: int) -> tuple[dict[str, object], object]:  # type: ignore[no-untyped-def]
    """Runs the stages (name, function of the previous stage's output) ``repeat`` times: the
    best time and the peak memory above the loaded data of the first stage alone and of them
    all, the best time of each stage, and the last run's outputs."""
    harness.reset_peak()
    loaded = harness.rss_mb()
    best: dict[str, float] = {}
    summary_peak = pipeline_peak = 0.0
    outputs: list[object] = []
    for _ in range(repeat):
        harness.reset_peak()
        outputs = []
        for i, (name, stage) in enumerate(stages):
            started = time.perf_counter()
            outputs.append(stage(*outputs))
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
            if i == 0:
                summary_peak = max(summary_peak, harness.peak_mb() - loaded)
        pipeline_peak = max(pipeline_peak, harness.peak_mb() - loaded)
    figures: dict[str, object] = {
        "summary": {"seconds": best[stages[0][0]], "peak_extra_mb": max(0.0, summary_peak)},
        "stages": best,
    }
    if len(stages) > 1:
        total = sum(best.values())
        figures["pipeline"] = {"seconds": total, "peak_extra_mb": max(0.0, pipeline_peak)}
    return figures, outputs


def _end(timestamp_dtype: object) -> object:
    import datetime as dt

    import polars as pl

    end = dt.datetime.fromisoformat(START) + dt.timedelta(days=END_DAY)
    return end if timestamp_dtype == pl.Datetime("us") else end.date()


def run_csmetrics(path: str, repeat: int, result: str, peer: str) -> dict[str, object]:
    import polars as pl

    from csmetrics import clv

    log = pl.read_parquet(path)
    end = _end(log.schema["timestamp"])

    def summary(*_):  # type: ignore[no-untyped-def]
        if peer == "polars":
            day = pl.col("timestamp").dt.truncate("1d")
            daily = log.lazy().group_by("customer_id", day=day).agg(pl.col("amount").sum())
            return (
                daily.group_by("customer_id")
                .agg(
                    frequency=pl.len() - 1,
                    first=pl.col("day").min(),
                    last=pl.col("day").max(),
                    monetary_value=pl.col("amount")
                    .filter(pl.col("day") > pl.col("day").min())
                    .mean(),
                )
                .select(
                    "customer_id",
                    "frequency",
                    recency=(pl.col("last") - pl.col("first")).dt.total_days(),
                    T=(pl.lit(end) - pl.col("first")).dt.total_days(),
                    monetary_value="monetary_value",
                )
                .collect()
            )
        return clv.rfm_summary(log, observation_end=end, time_unit="day")

    stages = [("summary", summary)]
    if peer == "csmetrics":
        stages += [
            ("fit_bgnbd", lambda s: clv.BetaGeo().fit(s, time_unit="day")),
            ("fit_gamma_gamma", lambda s, _: clv.GammaGamma().fit(s)),
            (
                "clv",
                lambda s, bg, gg: clv.clv(
                    s, transactions=bg, spend=gg, months=12, discount_rate=0.01
                ),
            ),
        ]
    figures, outputs = _stages(stages, repeat)
    table = outputs[0]
    _save_summary(result, list(table["customer_id"]), {c: table[c] for c in SUMMARY})  # type: ignore[index]
    if peer == "csmetrics":
        figures["params"] = {**outputs[1].params_, **outputs[2].params_}  # type: ignore[attr-defined]
        values = outputs[3]
        figures["mean_clv"] = float(values["clv"].mean())  # type: ignore[index]
        harness.save_result(
            _clv_path(result),
            [str(c) for c in values["customer_id"]],  # type: ignore[index]
            {"clv": values["clv"]},  # type: ignore[index]
        )
    return figures


def _clv_path(result: str) -> str:
    """Where a peer writes the 12-month CLV of every customer, next to its summary."""
    return result.removesuffix(".npz") + ".clv.npz"


def _save_summary(result: str, customers: list[object], columns: dict[str, object]) -> None:
    import numpy as np

    # Copies: the NaN below must not reach the peer's own frame (a view of it).
    values = {c: np.array(v, dtype=np.float64) for c, v in columns.items()}
    # lifetimes writes 0 where there is no repeat purchase, csmetrics null: both mean none.
    values["monetary_value"][values["frequency"] == 0] = np.nan
    harness.save_result(result, [str(c) for c in customers], values)


def run_lifetimes(path: str, repeat: int, result: str) -> dict[str, object]:
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    arrays = np.load(path.removesuffix(".parquet") + ".npz")  # no pyarrow in its environment
    log = pd.DataFrame(
        {
            "customer_id": arrays["customer_id"],
            "date": pd.Timestamp(START) + pd.to_timedelta(arrays["day"], unit="D"),
            "amount": arrays["amount"],
        }
    )
    end = pd.Timestamp(START) + pd.Timedelta(days=END_DAY)

    def summary():  # type: ignore[no-untyped-def]
        return summary_data_from_transaction_data(
            log, "customer_id", "date", monetary_value_col="amount", observation_period_end=end
        )

    def fit_gamma_gamma(s, _):  # type: ignore[no-untyped-def]
        repeat = s[s["frequency"] > 0]
        return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])

    def clv(s, bgf, ggf):  # type: ignore[no-untyped-def]
        return ggf.customer_lifetime_value(
            bgf,
            s["frequency"],
            s["recency"],
            s["T"],
            s["monetary_value"],
            time=12,
            discount_rate=0.01,
            freq="D",
        )

    stages = [
        ("summary", summary),
        ("fit_bgnbd", lambda s: BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])),
        ("fit_gamma_gamma", fit_gamma_gamma),
        ("clv", clv),
    ]
    figures, (table, bgf, ggf, values) = _stages(stages, repeat)
    _save_summary(result, list(table.index), {c: table[c] for c in SUMMARY})
    # lifetimes names the Gamma-Gamma scale v; csmetrics, as the paper, gamma.
    params = {**bgf.params_, **ggf.params_}
    figures["params"] = {("gamma" if k == "v" else k): float(v) for k, v in params.items()}
    figures["mean_clv"] = float(values.mean())
    # lifetimes' months are 30 days, csmetrics' 365/12: the agreement check takes lifetimes'
    # own formula (purchases per month x expected spend, discounted) with months of 365/12 days.
    spend = ggf.conditional_expected_average_profit(table["frequency"], table["monetary_value"])
    bought = [
        bgf.predict(i * 365 / 12, table["frequency"], table["recency"], table["T"])
        for i in range(13)
    ]
    check = sum((bought[i] - bought[i - 1]) * spend / 1.01**i for i in range(1, 13))
    figures["mean_clv_check"] = float(check.mean())
    harness.save_result(_clv_path(result), [str(c) for c in check.index], {"clv": check})
    return figures


def _fit_gap(reference: dict[str, object], other: dict[str, object]) -> tuple[str, float]:
    """The largest relative gap between two fits (parameters and mean CLV), and where."""
    ref = {**reference["params"], "mean_clv": reference["mean_clv"]}  # type: ignore[dict-item]
    oth = {**other["params"], "mean_clv": other.get("mean_clv_check", other["mean_clv"])}  # type: ignore[dict-item]
    if sorted(ref) != sorted(oth):
        return f"parameters {sorted(ref)} against {sorted(oth)}", float("inf")
    gaps = {k: abs(ref[k] - oth[k]) / max(abs(ref[k]), 1e-300) for k in ref}
    worst = max(gaps, key=gaps.__getitem__)
    return f"{worst} {ref[worst]!r} against {oth[worst]!r}", gaps[worst]


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, object]:
    if peer == "lifetimes":
        return run_lifetimes(path, repeat, result)
    return run_csmetrics(path, repeat, result, peer)


def main() -> None:
    parser = harness.parser(__doc__, [100_000, 1_000_000], 1, PEERS)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer run")
    parser.add_argument(
        "--lifetimes-max", type=int, default=1_000_000, help="largest size lifetimes is run at"
    )
    parser.add_argument(
        "--fit-rtol", type=float, default=1e-4, help="relative gap allowed between two fits"
    )
    parser.add_argument(
        "--lifetimes-python", default=str(LIFETIMES_PYTHON), help="interpreter with lifetimes"
    )
    args = harness.parse_args(parser, run_peer)

    import numpy as np
    import polars as pl

    import csmetrics as csm

    print(f"csmetrics {csm.__version__}, polars {pl.__version__}, best of {args.repeat} runs")
    peers = list(args.peers)
    if "lifetimes" in peers and not Path(args.lifetimes_python).exists():
        print(f"lifetimes skipped: {args.lifetimes_python} not found (make .venv-lifetimes/.ready)")
        peers.remove("lifetimes")
    pythons = {"lifetimes": args.lifetimes_python}
    start = (np.datetime64(START, "D") - np.datetime64("1970-01-01", "D")).astype(int)
    rows, fits, problems = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            arrays = simulate(size, args.seed)
            log = pl.DataFrame(
                {
                    "customer_id": arrays["customer_id"],
                    "timestamp": pl.Series(arrays["day"] + start).cast(pl.Date),  # type: ignore[operator]
                    "amount": arrays["amount"],
                }
            )
            print(f"{size:,} customers, {log.height:,} transactions ({log.height / size:.1f} each)")
            for keys, instants in harness.combinations(args):
                path = str(Path(tmp) / f"transactions_{size}_{keys}_{instants}.parquet")
                harness.convert(
                    log, keys, instants, ids=["customer_id"], instants=["timestamp"]
                ).write_parquet(path)
                run = harness.peers_for(
                    peers, keys, instants, ["lifetimes"], size <= args.lifetimes_max
                )
                if "lifetimes" in run:
                    ids = np.asarray(arrays["customer_id"]).astype(str)  # String keys
                    np.savez(
                        path.removesuffix(".parquet") + ".npz", **{**arrays, "customer_id": ids}
                    )
                figures, found = harness.run_peers(
                    __file__, run, path, args.repeat, pythons=pythons, timeout=args.timeout
                )
                where = f"{size:,} {keys} {instants}"
                problems += [f"{where}: {p}" for p in found]
                if "csmetrics" in figures and "lifetimes" in figures:
                    worst, gap = _fit_gap(figures["csmetrics"], figures["lifetimes"])
                    if not gap <= args.fit_rtol:
                        problems.append(
                            f"{where}: lifetimes' fit differs from csmetrics': {worst} "
                            f"(relative gap {gap:.1e})"
                        )
                    # Every customer's CLV, not only the mean (lifetimes' with months of 365/12
                    # days), within the gap allowed between two optimisers.
                    differs = harness.disagreement(
                        _clv_path(figures["csmetrics"]["result"]),
                        _clv_path(figures["lifetimes"]["result"]),
                        rel=args.fit_rtol,
                    )
                    if differs:
                        problems.append(
                            f"{where}: lifetimes' CLV per customer differs from csmetrics': "
                            f"{differs}"
                        )
                    fits.append((size, figures["csmetrics"], figures["lifetimes"], gap))
                for job in ("summary", "pipeline"):
                    jobs = {p: f[job] for p, f in figures.items() if job in f}
                    rows.append(((f"{size:,}", keys, instants, job), jobs))
    harness.fail_on(problems)
    print()
    harness.print_table(["customers", "keys", "instants", "job"], rows, peers)
    for size, ours, theirs, gap in fits:
        print(
            f"\n{size:,} customers, String keys, Date timestamps: seconds per stage and fit "
            f"(largest relative gap {gap:.1e})"
        )
        for peer, f in (("csmetrics", ours), ("lifetimes", theirs)):
            stages = ", ".join(f"{s} {t:.3f}" for s, t in f["stages"].items())  # type: ignore[union-attr]
            params = ", ".join(f"{k}={v:.6g}" for k, v in f["params"].items())  # type: ignore[union-attr]
            clv = f"mean CLV {f['mean_clv']:.4f}"
            if "mean_clv_check" in f:
                clv += f" (months of 365/12 days: {f['mean_clv_check']:.4f})"
            print(f"  {peer:<10} {stages}\n  {'':<10} {params}; {clv}")


if __name__ == "__main__":
    main()
