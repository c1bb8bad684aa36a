"""Transaction log -> RFM summary -> BG/NBD + Gamma-Gamma fit -> 12-month CLV of every customer:
csmetrics against lifetimes 0.11.3.

The transactions come from a seeded BG/NBD simulator in this script (numpy only): customers
arrive uniformly over a year, buy at Poisson rates while alive and drop out after each repeat
purchase, about 5 purchases each; spend per purchase follows Gamma-Gamma. Each size is generated
once into a temporary ``.npz`` file; each peer then runs in its own process (lifetimes in its own
virtual environment, ``.venv-lifetimes``, because it needs pandas 1.x), so timings and peak
memory do not leak between peers. Prints per-stage and total times, peak resident memory and
each peer's time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_clv.py                                  # 100k and 1M customers
    python bench/bench_clv.py --sizes 100000 1000000 10000000  # adds 10M (csmetrics only there)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIFETIMES_PYTHON = ROOT / ".venv-lifetimes" / "bin" / "python"
START = "2020-01-01"
END_DAY = 729  # observation end, days after START (inclusive): two years
STAGES = ["summary", "fit_bgnbd", "fit_gamma_gamma", "clv"]


def simulate(customers: int, seed: int, path: Path) -> int:
    """Writes customer_id, day (days after START) and amount arrays; returns the row count."""
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
    np.savez(path, customer_id=ids, day=days, amount=amounts)
    return int(ids.size)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_csmetrics(path: str) -> dict[str, object]:
    import datetime as dt

    import numpy as np
    import polars as pl

    from csmetrics import clv

    arrays = np.load(path)
    start = (dt.date.fromisoformat(START) - dt.date(1970, 1, 1)).days
    log = pl.DataFrame(
        {
            "customer_id": arrays["customer_id"],
            "timestamp": pl.Series(arrays["day"] + start).cast(pl.Date),
            "amount": arrays["amount"],
        }
    )
    end = dt.date.fromisoformat(START) + dt.timedelta(days=END_DAY)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    summary = clv.rfm_summary(log, observation_end=end, time_unit="D")
    times["summary"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bg = clv.BetaGeo().fit(summary)
    times["fit_bgnbd"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gg = clv.GammaGamma().fit(summary)
    times["fit_gamma_gamma"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = clv.clv(summary, transactions=bg, spend=gg, months=12, discount_rate=0.01)
    times["clv"] = time.perf_counter() - t0
    return {
        "times": times,
        "peak_mb": _peak_mb(),
        "params": {**bg.params_, **gg.params_},
        "mean_clv": float(values["clv"].mean()),
    }


def run_lifetimes(path: str) -> dict[str, object]:
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    arrays = np.load(path)
    log = pd.DataFrame(
        {
            "customer_id": arrays["customer_id"],
            "date": pd.Timestamp(START) + pd.to_timedelta(arrays["day"], unit="D"),
            "amount": arrays["amount"],
        }
    )
    end = pd.Timestamp(START) + pd.Timedelta(days=END_DAY)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    summary = summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount", observation_period_end=end
    )
    times["summary"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    times["fit_bgnbd"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    times["fit_gamma_gamma"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    times["clv"] = time.perf_counter() - t0
    params = {k: float(v) for k, v in {**bgf.params_, **ggf.params_}.items()}
    return {
        "times": times,
        "peak_mb": _peak_mb(),
        "params": params,
        "mean_clv": float(values.mean()),
    }


def measure(peer: str, path: Path, timeout: float) -> dict[str, object] | None:
    python = str(LIFETIMES_PYTHON) if peer == "lifetimes" else sys.executable
    if peer == "lifetimes" and not LIFETIMES_PYTHON.exists():
        print("  lifetimes: .venv-lifetimes is missing (make .venv-lifetimes/.ready)")
        return None
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [python, __file__, "--peer", peer, "--data", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"  {peer}: did not finish within {timeout:.0f} s")
        return None
    if done.returncode != 0:
        print(f"  {peer}: failed\n{done.stderr[-2000:]}")
        return None
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer run")
    parser.add_argument(
        "--lifetimes-max", type=int, default=1_000_000, help="largest size lifetimes is run at"
    )
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run = run_csmetrics if args.peer == "csmetrics" else run_lifetimes
        print(json.dumps(run(args.data)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"transactions_{size}.npz"
            rows = simulate(size, args.seed, path)
            print(f"\n{size:,} customers, {rows:,} transactions ({rows / size:.1f} each)")
            results: dict[str, dict[str, object]] = {}
            peers = ["csmetrics"] + (["lifetimes"] if size <= args.lifetimes_max else [])
            for peer in peers:
                result = measure(peer, path, args.timeout)
                if result is not None:
                    results[peer] = result
            header = f"  {'peer':<10}" + "".join(f"{s:>17}" for s in STAGES)
            print(header + f"{'total':>10}{'process':>10}{'peak MB':>9}{'x slower':>10}")
            base = results.get("csmetrics")
            base_total = sum(base["times"].values()) if base else None  # type: ignore[union-attr]
            for peer, r in results.items():
                times: dict[str, float] = r["times"]  # type: ignore[assignment]
                total = sum(times.values())
                ratio = f"{total / base_total:>10.1f}" if base_total else f"{'':>10}"
                print(
                    f"  {peer:<10}"
                    + "".join(f"{times[s]:>16.3f}s" for s in STAGES)
                    + f"{total:>9.2f}s{r['process']:>9.2f}s{r['peak_mb']:>9.0f}{ratio}"
                )
            for peer, r in results.items():
                shown = ", ".join(f"{k}={v:.4g}" for k, v in r["params"].items())  # type: ignore[union-attr]
                print(f"  {peer}: {shown}; mean 12-month CLV {r['mean_clv']:.2f}")


if __name__ == "__main__":
    main()
