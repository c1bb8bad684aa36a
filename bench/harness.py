"""What every benchmark script shares: memory readings, timing a peer, and running a peer in its
own process so that timings and peak memory do not leak between peers."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
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


def measure(compute: Callable[[], Any], repeat: int) -> tuple[Any, dict[str, float]]:
    """Runs ``compute`` ``repeat`` times: its last result, the best time and the peak memory
    above what the process held before the first run."""
    reset_peak()
    loaded = rss_mb()
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - started)
    return result, {"seconds": min(times), "peak_extra_mb": max(0.0, peak_mb() - loaded)}


def run_peer(
    script: str,
    peer: str,
    path: str,
    repeat: int,
    *,
    python: str = sys.executable,
    extra: Sequence[str] = (),
) -> dict[str, Any] | str:
    """Runs ``script --peer PEER --file PATH`` in a new process: its JSON figures, or the last
    line of its error output when it failed."""
    out = subprocess.run(
        [python, script, "--peer", peer, "--file", path, "--repeat", str(repeat), *extra],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {out.returncode}"
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures
