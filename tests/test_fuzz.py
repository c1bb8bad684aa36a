"""The fuzz suite: every public callable of csmetrics on frames it may meet in the wild.

For each public function, class and method (enumerated from ``csmetrics.__all__`` and the
``__all__`` of the modules it lists, the readers of ``csmetrics.io``, plus the
``pl.col(...).cs`` namespace; one without a
strategy in tests/fuzz/strategies.py fails :func:`test_every_public_callable_has_a_strategy`),
hypothesis draws frames with accepted and refused dtypes, nulls, odd shapes, extreme values and
bad options, and the outcome must be a result or a :class:`~csmetrics.CsMetricsError` (not an
``InternalError``, a panic, or any other exception), within a time and a memory bound, with no
NaN or inf where the contract says null and the contract's ranges held. The same frame given as
Polars, LazyFrame, pandas and pyarrow gives the same result.

``make test`` runs a bounded profile (deterministic, a few thousand examples in all);
``CSMETRICS_FUZZ=long`` (``make fuzz``) runs many more, randomly.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import threading
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from polars.testing import assert_frame_equal

import csmetrics as csm
import csmetrics.io as csm_io

sys.path.insert(0, str(Path(__file__).parent))
from fuzz.frames import back_to_polars, convert, lossless
from fuzz.strategies import REGISTRY, Case, Entry, public_methods

LONG = os.environ.get("CSMETRICS_FUZZ", "") == "long"
# Examples per registry entry of weight 1: ~100 entries, a few thousand examples in all.
EXAMPLES = int(os.environ.get("CSMETRICS_FUZZ_EXAMPLES", 400 if LONG else 20))
CALL_SECONDS = float(os.environ.get("CSMETRICS_FUZZ_CALL_SECONDS", 10))
# Memory a call may add to the process's resident set.
MEMORY_BYTES = 4 * 2**30
# Past these the process is stopped (a hang or runaway allocation would take the machine).
HARD_SECONDS = max(60.0, 6 * CALL_SECONDS)
HARD_BYTES = 6 * 2**30


# --- the public API ---------------------------------------------------------------------------


def public_callables() -> set[str]:
    """Every public callable: functions, classes (their constructors) and their methods."""
    names: set[str] = set()

    def add(name: str, obj: Any) -> None:
        if isinstance(obj, type):
            if issubclass(obj, BaseException):
                return  # exceptions are raised, not called
            names.add(name)
            names.update(f"{name}.{method}" for method in public_methods(obj))
        elif callable(obj):
            names.add(name)

    for name in csm.__all__:
        obj = getattr(csm, name)
        if isinstance(obj, types.ModuleType):
            for sub in obj.__all__:
                add(f"{name}.{sub}", getattr(obj, sub))
        else:
            add(name, obj)
    # The readers of exports (csmetrics.io), imported on their own.
    for module_name in csm_io.__all__:
        module = getattr(csm_io, module_name)
        for sub in module.__all__:
            add(f"io.{module_name}.{sub}", getattr(module, sub))
    namespace = pl.col("x").cs  # type: ignore[attr-defined]
    names.update(f"expr.cs.{m}" for m in dir(namespace) if not m.startswith("_"))
    return names


def test_every_public_callable_has_a_strategy() -> None:
    missing = sorted(public_callables() - set(REGISTRY))
    assert not missing, f"public callables without a fuzz strategy: {missing}"


def test_every_strategy_is_public() -> None:
    stale = sorted(set(REGISTRY) - public_callables())
    assert not stale, f"fuzz strategies of names that are not public: {stale}"


# --- time and memory bounds -------------------------------------------------------------------


class Watchdog:
    """Samples the resident memory of each call, and stops the process when a call hangs or
    allocates without bound.

    The per-call limits are checked after each call (and shrunk by hypothesis); stopping is the
    backstop for a call that would never return, or take the machine's memory first.
    ``ru_maxrss`` is the process's peak, and the allocator keeps freed memory resident, so one
    offender would fail every later call: the growth of the resident set during the call itself
    (sampled) is what is checked.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[float, str] | None = None
        self._base = 0
        self._peak = 0
        self._page = os.sysconf("SC_PAGE_SIZE")
        threading.Thread(target=self._watch, daemon=True, name="fuzz-watchdog").start()

    def resident(self) -> int:
        try:
            return int(Path("/proc/self/statm").read_text().split()[1]) * self._page
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def begin(self, description: str) -> None:
        with self._lock:
            self._current = (time.monotonic(), description)
            self._base = self._peak = self.resident()

    def end(self) -> int:
        """Ends the call; returns how much it grew the resident set at its peak, in bytes."""
        with self._lock:
            self._current = None
            return max(self._peak, self.resident()) - self._base

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            resident = self.resident()
            with self._lock:
                current = self._current
                if current is not None:
                    self._peak = max(self._peak, resident)
                growth = resident - self._base
            if current is None:
                continue
            started, description = current
            elapsed = time.monotonic() - started
            if elapsed > HARD_SECONDS or growth > HARD_BYTES:
                sys.stderr.write(
                    f"\nfuzz watchdog: a call ran {elapsed:.0f} s and grew the resident set by "
                    f"{growth / 2**30:.1f} GiB; stopping the process. The call:\n{description}\n"
                )
                sys.stderr.flush()
                os._exit(70)


WATCHDOG = Watchdog()


# --- running a case ---------------------------------------------------------------------------


@dataclass
class Outcome:
    family: str
    result: Any
    error: BaseException | None
    seconds: float
    peak_bytes: int


def run(entry: Entry, case: Case, family: str) -> Outcome | None:
    """Calls the case with its frames as ``family``; None when that library cannot hold them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the conversion is not under test
            frames = {k: convert(v, family) for k, v in case.frames.items()}  # type: ignore[arg-type]
    except Exception:
        return None
    WATCHDOG.begin(f"[{family}]\n{case!r}")
    start = time.monotonic()
    try:
        result, error = entry.call(frames, case), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        result, error = None, exc
    finally:
        seconds = time.monotonic() - start
        peak = WATCHDOG.end()
    return Outcome(family, result, error, seconds, peak)


def _describe(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}: {error}"


def check_outcome(entry: Entry, case: Case, outcome: Outcome, exact: bool) -> None:
    """The outcome of one call; ``exact``: the family holds the frames with their dtypes (a
    refused dtype may become an accepted one on the way to pandas)."""
    where = f"[{outcome.family}]"
    assert outcome.seconds <= CALL_SECONDS, (
        f"{where} the call took {outcome.seconds:.1f} s (limit {CALL_SECONDS} s)"
    )
    peak = outcome.peak_bytes
    assert peak <= MEMORY_BYTES, f"{where} the call took {peak / 2**30:.1f} GiB more memory"
    error = outcome.error
    if error is not None:
        if isinstance(error, csm.InternalError):
            raise AssertionError(f"{where} the engine panicked: {_describe(error)}") from error
        if type(error).__name__ == "PanicException":
            raise AssertionError(f"{where} a Rust panic crossed: {_describe(error)}") from error
        if not isinstance(error, (csm.CsMetricsError, *entry.allowed)):
            raise AssertionError(f"{where} not a CsMetricsError: {_describe(error)}") from error
    if entry.check is not None:
        entry.check(case, outcome.result, error)
    if error is not None:
        return
    if case.refused and exact:
        raise AssertionError(f"{where} accepted a refused dtype in {', '.join(case.refused)}")
    if case.bad_option:
        raise AssertionError(f"{where} accepted the bad option {case.bad_option}")
    result = outcome.result
    if entry.frame_result:
        check_family(outcome.family, result)
        check_values(entry, case, back_to_polars(result), where)
    else:
        check_plain(case, result, where)


def check_family(family: str, result: Any) -> None:
    """pandas in -> pandas out, pyarrow in -> pyarrow out, Polars otherwise."""
    module = type(result).__module__.split(".")[0]
    expected = {"pyarrow": "pyarrow"}.get(family, "pandas" if family.startswith("pandas") else "")
    if expected:
        assert module == expected, f"[{family}] the result is a {type(result)}"
    else:
        assert isinstance(result, pl.DataFrame), f"[{family}] the result is a {type(result)}"


def check_values(entry: Entry, case: Case, frame: pl.DataFrame, where: str) -> None:
    """No NaN or inf in float columns (the contract gives null); the contract's ranges."""
    given = next(iter(case.frames.values())).columns if entry.passthrough and case.frames else []
    bounds = entry.bounds(case)
    allow_nan = {"std_error", "lower", "upper"} if case.name.endswith(".summary") else set()
    for name in frame.columns:
        if name in given:
            continue  # the input's own columns, passed through
        column = frame[name]
        if column.dtype.is_float() and name not in allow_nan:
            bad = column.filter(column.is_nan() | column.is_infinite())
            assert bad.is_empty(), f"{where} column {name!r} holds {bad.to_list()[:3]}"
        if name in bounds and column.dtype.is_numeric():
            lo, hi = bounds[name]
            values = column.cast(pl.Float64).drop_nulls().drop_nans()
            outside = values.filter((values < lo - 1e-9) | (values > hi + 1e-9))
            assert outside.is_empty(), (
                f"{where} column {name!r} leaves [{lo}, {hi}]: {outside.to_list()[:3]}"
            )


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, pl.Series) and value.dtype.is_float():
        return not (value.is_nan() | value.is_infinite()).any()
    return True


def check_plain(case: Case, result: Any, where: str) -> None:
    """Results that are not frames: parameters, dicts of counts, formula values."""
    if isinstance(result, pl.DataFrame):
        check_values(REGISTRY[case.name], case, result, where)
        return
    if case.name in ("clv.purchase_clv", "clv.subscription_clv", "clv.net_clv"):
        args = case.setup["args"]
        if case.name == "clv.subscription_clv" and len(args) == 3:
            churn = args[2]
            if isinstance(churn, int | float) and churn == 0:
                assert result is None, f"{where} churn rate 0 gave {result!r}, not None"
        tame = all(_finite(a) and _small(a) for a in args)
        if tame:
            assert _finite(result), f"{where} finite inputs gave {result!r}"
        return
    if case.name.startswith("datasets."):
        return
    assert _finite(result), f"{where} the result holds NaN or inf: {result!r}"


def _small(value: Any) -> bool:
    """Far from overflow, in a division too (closed formulas may overflow like any float)."""
    if isinstance(value, int | float):
        return value == 0 or 1e-100 < abs(value) < 1e100
    if isinstance(value, pl.Series) and value.dtype.is_numeric():
        size = value.abs()
        return bool(((size == 0) | ((size > 1e-100) & (size < 1e100))).all())
    return True


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame in the types every family round-trips to: what "the same result" compares."""
    if frame.height == 0:
        # An empty pandas object column (Decimal money, say) has no type to round-trip.
        return frame.select(pl.all().cast(pl.String))
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone:
                column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            column = column.dt.cast_time_unit("us").cast(pl.Int64).cast(pl.Float64)
        elif dtype == pl.Date:
            column = column.cast(pl.Datetime("us")).cast(pl.Int64).cast(pl.Float64)
        elif dtype.is_numeric() or dtype == pl.Boolean:
            column = column.cast(pl.Float64)
        elif isinstance(dtype, pl.Categorical | pl.Enum) or dtype == pl.Null:
            column = column.cast(pl.String)
        exprs.append(column.alias(name))
    return frame.select(exprs)


def compare(entry: Entry, case: Case, reference: Outcome, other: Outcome) -> None:
    """The same frame as another family gives the same outcome."""
    where = f"[{reference.family} vs {other.family}]"
    if reference.error is not None or other.error is not None:
        # Both must raise; which error an input with several faults reports first may differ.
        got = [type(o.error).__name__ if o.error else "a result" for o in (reference, other)]
        assert reference.error is not None and other.error is not None, (
            f"{where} {got[0]} vs {got[1]}: " + _describe(other.error or reference.error)  # type: ignore[arg-type]
        )
        return
    if entry.frame_result:
        left = canonical(back_to_polars(reference.result))
        right = canonical(back_to_polars(other.result))
        assert_frame_equal(left, right, check_dtypes=False, check_exact=True)
    elif case.name != "report":
        assert repr(reference.result) == repr(other.result), where


def fuzz(entry: Entry, case: Case) -> None:
    try:
        _fuzz(entry, case)
    except (Exception, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # A panic while checking a result (a malformed column makes Polars itself panic):
        # an ordinary failure, so that hypothesis shrinks it.
        raise AssertionError(f"a panic while checking the result: {_describe(exc)}") from exc


def _fuzz(entry: Entry, case: Case) -> None:
    outcomes: list[Outcome] = []
    # Without frames there is nothing to convert: one call.
    families = entry.families if case.frames else entry.families[:1]
    for family in families:
        outcome = run(entry, case, family)
        if outcome is None:
            continue
        exact = all(lossless(frame, family) for frame in case.frames.values())  # type: ignore[arg-type]
        check_outcome(entry, case, outcome, exact)
        outcomes.append((outcome, exact))
    if not outcomes:
        return
    reference, _ = outcomes[0]
    for other, exact in outcomes[1:]:
        if exact:
            compare(entry, case, reference, other)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fuzz(name: str) -> None:
    entry = REGISTRY[name]
    examples = max(2, round(EXAMPLES * entry.weight))

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=not LONG,
        database=None if not LONG else settings.default.database,
        suppress_health_check=list(HealthCheck),
        print_blob=LONG,
    )
    @given(case=entry.cases)
    def check(case: Case) -> None:
        fuzz(entry, case)

    check()
