"""What every benchmark script shares: memory readings, timing a peer, and running a peer in its
own process so that timings and peak memory do not leak between peers."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> None:
    """Starts the peak-memory reading afresh (Linux: the high-water mark is set to the current
    resident memory), so that the transient memory of loading the data is not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak resident memory of this process since the last :func:`reset_peak`, in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Rows of the warm-up call of :func:`measure`.
SAMPLE = 1000


def measure(
    compute: Callable[..., Any], repeat: int, sample: Any = None
) -> tuple[Any, dict[str, float]]:
    """Runs ``compute`` ``repeat`` times: its last result, the best time and the peak memory
    above what the process held before the first run.

    With a ``sample`` (the first rows of the data), ``compute(sample)`` runs once before the
    peak is reset, for every peer alike: the code a first call pages in (tens of MB of a
    library's machine code, the same whatever the data's size) is then not counted as memory
    the computation needs. ``first_call_mb`` reports what that warm-up added."""
    if sample is not None:
        before = rss_mb()
        compute(sample)
        first_call = max(0.0, rss_mb() - before)
    reset_peak()
    loaded = rss_mb()
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - started)
    figures = {"seconds": min(times), "peak_extra_mb": max(0.0, peak_mb() - loaded)}
    if sample is not None:
        figures["first_call_mb"] = first_call
    return result, figures


def run_peer(
    script: str,
    peer: str,
    path: str,
    repeat: int,
    *,
    python: str = sys.executable,
    extra: Sequence[str] = (),
    timeout: float | None = None,
) -> dict[str, Any] | str:
    """Runs ``script --peer PEER --file PATH`` in a new process: its JSON figures, or the last
    line of its error output when it failed."""
    try:
        out = subprocess.run(
            [python, script, "--peer", peer, "--file", path, "--repeat", str(repeat), *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:.0f} s"
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {out.returncode}"
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


# --- Kinds of keys and instants -------------------------------------------------------------

KEY_KINDS = ("string", "categorical", "integer")
INSTANT_KINDS = ("date", "datetime")
# The slow peers (pandas, lifelines, lifetimes) run on this combination only.
BASELINE = ("string", "date")


def peers_for(
    peers: Sequence[str], keys: str, instants: str, slow: Sequence[str], fits: bool = True
) -> list[str]:
    """The peers to run on one combination: the slow ones only on :data:`BASELINE` (and only
    when ``fits``, their size limit)."""
    baseline = (keys, instants) == BASELINE and fits
    return [p for p in peers if p not in slow or baseline]


def add_kind_options(parser: Any) -> None:
    """``--keys`` and ``--instants``: the kinds of key and instant columns to run on."""
    parser.add_argument("--keys", nargs="+", choices=KEY_KINDS, default=list(KEY_KINDS))
    parser.add_argument("--instants", nargs="+", choices=INSTANT_KINDS, default=list(INSTANT_KINDS))


def combinations(args: Any) -> list[tuple[str, str]]:
    return [(k, i) for k in args.keys for i in args.instants]


def convert(
    frame: Any,
    key_kind: str,
    instant_kind: str,
    *,
    ids: Sequence[str] = (),
    labels: Sequence[str] = (),
    instants: Sequence[str] = (),
) -> Any:
    """The frame with its key and instant columns of the given kinds.

    ``ids`` are integer customer ids (the integer kind keeps them; String is their decimal
    text), ``labels`` are String labels such as a segment (the integer kind is a code in label
    order, Int32), ``instants`` are Date columns (the datetime kind is Datetime("us") at
    midnight, so that every kind describes the same instants)."""
    import polars as pl

    columns = []
    for name in ids:
        column = pl.col(name)
        if key_kind != "integer":
            column = column.cast(pl.String)
        if key_kind == "categorical":
            column = column.cast(pl.Categorical)
        columns.append(column)
    for name in labels:
        column = pl.col(name)
        if key_kind == "categorical":
            column = column.cast(pl.Categorical)
        elif key_kind == "integer":
            column = (column.rank("dense") - 1).cast(pl.Int32)
        columns.append(column)
    if instant_kind == "datetime":
        columns += [pl.col(name).cast(pl.Datetime("us")) for name in instants]
    return frame.with_columns(columns) if columns else frame


# --- Results and their agreement ------------------------------------------------------------


def save_result(
    path: str,
    keys: Sequence[str],
    values: dict[str, Any],
    scalars: dict[str, float] | None = None,
    atol: Any = None,
) -> None:
    """Writes a peer's result in a form any environment reads (numpy only): one string key per
    group and float columns; ``scalars`` are single numbers (e.g. a median). ``atol``, per
    group, is a gap allowed on top of the relative one when this result is the reference (a
    documented rounding of the reference)."""
    import numpy as np

    arrays = {f"value:{name}": np.asarray(v, dtype=np.float64) for name, v in values.items()}
    arrays |= {f"scalar:{name}": np.float64(v) for name, v in (scalars or {}).items()}
    if atol is not None:
        arrays["atol"] = np.asarray(atol, dtype=np.float64)
    with open(path, "wb") as f:
        np.savez(f, keys=np.asarray(list(keys), dtype=str), **arrays)


def _close(a: Any, b: Any, rel: float, atol: Any = 0.0) -> Any:
    import numpy as np

    # Relative, with a floor far below any figure shown for values that are 0 up to rounding.
    same = np.abs(a - b) <= rel * np.maximum(np.abs(a), np.abs(b)) + 1e-12 + atol
    return same | (a == b) | (np.isnan(a) & np.isnan(b))  # a == b: equal infinities


def disagreement(reference: str, other: str, rel: float = 1e-9) -> str | None:
    """None when the two results hold the same groups with the same numbers (within ``rel``),
    else what differs."""
    import numpy as np

    ref, oth = np.load(reference), np.load(other)
    names = sorted(set(ref.files) - {"atol"})
    if names != sorted(set(oth.files) - {"atol"}):
        return f"columns {names} against {sorted(oth.files)}"
    ref_keys, oth_keys = ref["keys"], oth["keys"]
    for keys in (ref_keys, oth_keys):
        if np.unique(keys).size != keys.size:
            return f"{keys.size - np.unique(keys).size} duplicate groups"
    if not np.array_equal(np.sort(ref_keys), np.sort(oth_keys)):
        missing = np.setdiff1d(ref_keys, oth_keys)
        extra = np.setdiff1d(oth_keys, ref_keys)
        return (
            f"groups differ: {missing.size} missing (e.g. {missing[:3].tolist()}), "
            f"{extra.size} extra (e.g. {extra[:3].tolist()})"
        )
    ref_order, oth_order = np.argsort(ref_keys), np.argsort(oth_keys)
    keys = ref_keys[ref_order]
    atol = ref["atol"][ref_order] if "atol" in ref.files else 0.0
    for name in names:
        if name.startswith("value:"):
            a, b = ref[name][ref_order], oth[name][oth_order]
            bad = np.flatnonzero(~_close(a, b, rel, atol))
            if bad.size:
                i = bad[np.argmax(np.nan_to_num(np.abs(a[bad] - b[bad]), nan=np.inf))]
                return (
                    f"{name[6:]} differs in {bad.size} of {a.size} groups, "
                    f"most at {keys[i]}: {float(a[i])!r} against {float(b[i])!r}"
                )
        elif name.startswith("scalar:") and not _close(ref[name], oth[name], rel):
            return f"{name[7:]}: {float(ref[name])!r} against {float(oth[name])!r}"
    return None


# --- One table per script -------------------------------------------------------------------


def print_table(
    labels: Sequence[str],
    rows: Sequence[tuple[tuple[str, ...], dict[str, dict[str, Any]]]],
    peers: Sequence[str],
    base: str = "csmetrics",
) -> None:
    """One line per row label (e.g. size, key kind, instant kind): the base peer's seconds and
    MB, then each other peer's seconds, MB and time as a ratio to the base's; blank where a
    peer did not run."""
    widths = [max(len(h), *(len(r[0][i]) for r in rows)) for i, h in enumerate(labels)]
    spans = [max(22, len(p) + 1) for p in peers]
    line = "".join(f"{h:<{w + 2}}" for h, w in zip(labels, widths, strict=True))
    print(line + "".join(f"{p:>{s}}" for p, s in zip(peers, spans, strict=True)))
    units = "".join(
        f"{'s':>{s - 14}}{'MB':>7}{'' if p == base else 'x':>7}"
        for p, s in zip(peers, spans, strict=True)
    )
    print(" " * len(line) + units)
    for label, figures in rows:
        cells = "".join(f"{v:<{w + 2}}" for v, w in zip(label, widths, strict=True))
        start = figures.get(base, {}).get("seconds")
        for peer, span in zip(peers, spans, strict=True):
            f = figures.get(peer)
            if f is None:
                cells += " " * span
                continue
            ratio = "" if peer == base or not start else f"{f['seconds'] / start:.2f}"
            cells += f"{f['seconds']:>{span - 14}.3f}{f['peak_extra_mb']:>7.0f}{ratio:>7}"
        print(cells)
    first = {p: f["first_call_mb"] for _, r in rows for p, f in r.items() if "first_call_mb" in f}
    if first:
        print(
            "MB counts memory above the data after a warm-up call on the first "
            f"{SAMPLE} rows; that first call paged in (MB): "
            + ", ".join(f"{p} {v:.0f}" for p, v in first.items())
        )


def run_peers(
    script: str,
    peers: Sequence[str],
    path: str,
    repeat: int,
    *,
    pythons: dict[str, str] | None = None,
    extra: Sequence[str] = (),
    base: str = "csmetrics",
    timeout: float | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Runs each peer in its own process on ``path`` (each writes its result next to it with
    ``--result``), then checks every result against the base peer's: the figures of the peers
    that ran, and what failed or disagreed."""
    figures: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for peer in peers:
        result = f"{path}.{peer}.npz"
        python = (pythons or {}).get(peer, sys.executable)
        args = [*extra, "--result", result]
        out = run_peer(script, peer, path, repeat, python=python, extra=args, timeout=timeout)
        if isinstance(out, str):
            problems.append(f"{peer} failed: {out}")
            continue
        figures[peer] = {**out, "result": result}
    if base in figures:
        for peer, f in figures.items():
            differs = None if peer == base else disagreement(figures[base]["result"], f["result"])
            if differs:
                problems.append(f"{peer} disagrees with {base}: {differs}")
    return figures, problems


def fail_on(problems: Sequence[str]) -> None:
    """Exits non-zero, printing every problem, when any peer failed or disagreed: no time is
    printed for results that are not the same."""
    if problems:
        print(f"\n{len(problems)} problem(s); no times printed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(1)


# --- A script's command line and its loop over sizes ----------------------------------------


def parser(
    doc: str,
    sizes: Sequence[int],
    repeat: int,
    peers: Sequence[str],
    *,
    size_aliases: Sequence[str] = (),
    slow_max: str | None = None,
) -> argparse.ArgumentParser:
    """The options every script has: ``--sizes`` (also spelt ``size_aliases``), ``--repeat``,
    ``--peers``, with ``slow_max`` ``--<slow_max>-max`` (the largest size that peer runs at),
    ``--keys`` and ``--instants``. The script adds its own, then calls :func:`parse_args`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", *size_aliases, type=int, nargs="+", default=list(sizes))
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--peers", nargs="+", default=list(peers), choices=peers)
    if slow_max:
        parser.add_argument(
            f"--{slow_max}-max",
            type=int,
            default=1_000_000,
            help=f"largest size {slow_max} runs at",
        )
    add_kind_options(parser)
    return parser


def parse_args(parser: argparse.ArgumentParser, run_peer: Callable[..., Any]) -> Any:
    """The parsed options. Called as a peer (``--peer``, by :func:`run_peers`), it runs
    ``run_peer(peer, file, repeat, result)`` instead, prints its figures as JSON and exits."""
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.file, args.repeat, args.result)))
        sys.exit(0)
    return args


@contextmanager
def cache_folder(cache: str | None, prefix: str = "csmetrics-bench-") -> Iterator[Path]:
    """``cache`` (kept, its files reused by later runs), else a temporary folder removed
    afterwards."""
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
        yield Path(cache)
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)


def identity_gap(units: Any) -> int:
    """The largest gap of the bridge identity (starting + new + expansion + reactivation -
    contraction - churned = ending) over the periods of a bridge in integer units."""
    import polars as pl

    return int(
        units.select(
            (
                pl.col("starting_mrr")
                + pl.col("new")
                + pl.col("expansion")
                + pl.col("reactivation")
                - pl.col("contraction")
                - pl.col("churned")
                - pl.col("ending_mrr")
            )
            .abs()
            .max()
        ).item()
    )


def print_versions() -> None:
    import polars as pl

    import csmetrics as csm

    print(f"csmetrics {csm.__version__}, polars {pl.__version__}, {os.cpu_count()} cores")


class Runs:
    """The rows of a script's table and the problems found on the way."""

    def __init__(self) -> None:
        self.rows: list[tuple[tuple[str, ...], dict[str, dict[str, Any]]]] = []
        self.problems: list[str] = []

    def run(
        self,
        script: str,
        label: tuple[str, ...],
        peers: Sequence[str],
        path: str,
        repeat: int,
        *,
        where: str | None = None,
        **options: Any,
    ) -> dict[str, dict[str, Any]]:
        """:func:`run_peers` on ``path``: one row ``label`` of the table; problems are prefixed
        with ``where`` (the label's words by default). Returns the figures."""
        figures, found = run_peers(script, peers, path, repeat, **options)
        self.problem(where or " ".join(label), found)
        self.rows.append((label, figures))
        return figures

    def problem(self, where: str, found: Sequence[str]) -> None:
        self.problems += [f"{where}: {p}" for p in found]

    def finish(self, labels: Sequence[str], peers: Sequence[str], note: str = "") -> None:
        """Exits on any problem, else prints ``note`` after a blank line, then the table."""
        fail_on(self.problems)
        print(f"\n{note}" if note else "")
        print_table(labels, self.rows, peers)


def sweep(
    script: str,
    args: Any,
    generate: Callable[[int, str], Any],
    describe: Callable[[int, Any, float], str],
    stem: str,
    *,
    slow: Sequence[str] = (),
    fits: Callable[[int], bool] = lambda size: True,
    check: Callable[[dict[str, dict[str, Any]]], list[str]] | None = None,
    **columns: Sequence[str],
) -> Runs:
    """For each size: ``generate(size, folder)`` a frame (timed; ``describe(size, frame,
    seconds)`` is printed), then for each kind of key and instant, the frame converted
    (:func:`convert` with ``columns``) and written to ``<stem>_<keys>_<instants>.parquet``, the
    peers run on it (the ``slow`` ones on :data:`BASELINE` only, where ``fits(size)``) and
    their figures checked with ``check`` (a list of problems)."""
    runs = Runs()
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            frame = generate(size, tmp)
            print(describe(size, frame, time.perf_counter() - started))
            for keys, instants in combinations(args):
                path = str(Path(tmp) / f"{stem}_{keys}_{instants}.parquet")
                convert(frame, keys, instants, **columns).write_parquet(path)
                peers = peers_for(args.peers, keys, instants, slow, fits(size))
                label = (f"{size:,}", keys, instants)
                figures = runs.run(script, label, peers, path, args.repeat)
                if check:
                    runs.problem(" ".join(label), check(figures))
            del frame
    return runs


def month_spine(active: Any, last_month: Any) -> Any:
    """Every month of each customer from its first active month to the month after its last
    (when that is before ``last_month``): the customer-month grid a hand-written bridge joins
    its monthly MRR onto. ``active`` is a LazyFrame of customer_id and month."""
    import polars as pl

    return (
        active.group_by("customer_id")
        .agg(first=pl.col("month").min(), last=pl.col("month").max())
        .with_columns(
            last=pl.when(pl.col("last") < last_month)
            .then(pl.col("last").dt.offset_by("1mo"))
            .otherwise(pl.col("last"))
        )
        .with_columns(month=pl.date_ranges("first", "last", interval="1mo"))
        .explode("month")
        .select("customer_id", "month")
    )
