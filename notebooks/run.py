"""Executes the tutorial notebooks top to bottom with nbclient.

    python notebooks/run.py --in-place   # `make notebooks`: rewrite the notebooks with fresh outputs
    python notebooks/run.py --copy       # `make test`: run copies in a temporary directory

With ``--copy`` the tracked files are never written. Either way a failing cell stops the run with
its traceback, and a notebook whose file would exceed the size limit is an error (they are
committed with their outputs so that they render on a code host).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ["cohort_churn.ipynb", "clv.ipynb", "retention_analysis.ipynb"]
MAX_BYTES = 2_000_000


KERNEL = "csmetrics-notebooks"


def register_kernel(folder: Path) -> None:
    """A kernel spec for this interpreter, found first through JUPYTER_PATH, so that the
    notebooks run where csmetrics is installed whatever other "python3" kernels exist."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(folder), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    )


def execute(path: Path, *, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL,
        record_timing=False,  # no timestamps in the committed files: re-runs diff only on content
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    elapsed = time.perf_counter() - started
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--in-place", action="store_true", help="write outputs into the notebooks")
    mode.add_argument("--copy", action="store_true", help="execute copies in a temporary folder")
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all three)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    # The kernel inherits the environment: MPLBACKEND=Agg (set by `make` for headless runs)
    # would stop the figures from being embedded, so the kernel gets the inline backend, which
    # renders off-screen too.
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    names = args.names or NOTEBOOKS
    failures = 0
    with tempfile.TemporaryDirectory(prefix="csmetrics-notebooks-") as scratch:
        register_kernel(Path(scratch) / "jupyter")
        for name in names:
            source = HERE / Path(name).name
            target = source
            if args.copy:
                target = Path(scratch) / source.name
                shutil.copyfile(source, target)
            try:
                elapsed = execute(target, timeout=args.timeout)
            except Exception as err:  # report every notebook, then fail
                failures += 1
                print(f"FAILED {source.name}: {type(err).__name__}: {err}", file=sys.stderr)
                continue
            size = target.stat().st_size
            status = "ok" if size <= MAX_BYTES else "TOO LARGE"
            if size > MAX_BYTES:
                failures += 1
            print(f"{status:>9} {source.name}: {elapsed:5.1f} s, {size / 1e6:.2f} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
