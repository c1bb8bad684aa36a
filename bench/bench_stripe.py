"""Reading a Stripe export: csmetrics.io.stripe.read against the pure-Python reader it replaced
and against pl.read_ndjson with the unnesting a user would write.

The export is generated with ``datasets.write_stripe`` (API 2025-03-31, JSON lines) from
``datasets.saas``: the subscription objects of ``--customers`` customers (default 1,000,000)
and the invoice objects of the first ``--invoice-customers`` (default 100,000; every billing
period of every paid spell is an invoice, so all customers' invoices would take tens of GB).
``write_stripe`` builds all of an export's objects in memory, so the export is written in
slices of ``--invoice-customers`` customers (each slice's subscriptions appended to one file;
the first slice's invoices kept) and cached in ``--cache`` (default: a temporary folder, removed
afterwards). The file sizes and the writer's time are printed: the default export (1.36 GB of
subscriptions, 0.57 GB of invoices) took 51 s to write on 2 cores, practical at 1M customers.
Three peers run, each in its own process:

- ``csmetrics``: ``csmetrics.io.stripe.read(subscriptions=..., invoices=...)``: the three
  tables (status spells, discounts, invoice lines net of discounts) with exact Decimal money;
- ``polars``: ``pl.read_ndjson`` of both files, then the invoice lines (paid and open invoices,
  ``lines.data`` exploded and unnested, the discount credits subtracted, amounts / 100, periods
  from Unix seconds) and the subscription items (``items.data`` exploded, the price unnested,
  unit amount / 100, quantity): less than csmetrics gives (no spells, no discounts table, float
  money), the least a user would write;
- ``reference``: the old pure-Python reader (tests/stripe_reference.py), on its own smaller
  export of ``--reference-customers`` (default 2,000) customers, where csmetrics runs too: its
  rate in objects per second.

Before any time is printed, the peers' invoice lines (amount, period start and end, quantity,
by line id) and subscription items (amount and quantity, by subscription) must agree with
csmetrics'. The script asserts nothing about time.

    python bench/bench_stripe.py                                  # 1M customers, 100k invoiced
    python bench/bench_stripe.py --customers 100000 --invoice-customers 20000  # --sizes too
    python bench/bench_stripe.py --cache /tmp/stripe-bench        # keep the files for reruns
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

PEERS = ["csmetrics", "polars", "reference"]
MONTHS = 24
SEED = 7


# --- The export ---------------------------------------------------------------------------------


def write_export(folder: Path, customers: int, invoice_customers: int) -> dict[str, Any]:
    """The export of ``customers`` customers, the first ``invoice_customers`` with their
    invoices, in ``folder`` (reused when it is there): objects per file, bytes, seconds."""
    done = folder / "export.json"
    if done.exists():
        info: dict[str, Any] = json.loads(done.read_text())
        return info
    import polars as pl

    from csmetrics import datasets

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = datasets.saas(customers, months=MONTHS, seed=SEED)
    generated = time.perf_counter() - started
    subs_path, invoices_path = folder / "subscriptions.jsonl", folder / "invoices.jsonl"
    counts = {"subscriptions": 0, "invoices": 0}
    step = max(1, invoice_customers)
    with subs_path.open("wb") as subs_out, tempfile.TemporaryDirectory(dir=folder) as scratch:
        for first in range(1, customers + 1, step):
            part = data.subscriptions.filter(
                pl.col("customer_id").is_between(first, first + step - 1)
            )
            written = datasets.write_stripe(dataclasses.replace(data, subscriptions=part), scratch)
            with (Path(scratch) / "subscriptions.jsonl").open("rb") as chunk:
                shutil.copyfileobj(chunk, subs_out)
            counts["subscriptions"] += written["subscriptions.jsonl"]
            if first == 1:
                shutil.move(Path(scratch) / "invoices.jsonl", invoices_path)
                counts["invoices"] = written["invoices.jsonl"]
    info = {
        "customers": customers,
        "invoice_customers": min(customers, invoice_customers),
        "objects": counts,
        "bytes": {
            "subscriptions": subs_path.stat().st_size,
            "invoices": invoices_path.stat().st_size,
        },
        "generate_seconds": generated,
        "write_seconds": time.perf_counter() - started - generated,
    }
    done.write_text(json.dumps(info))
    return info


# --- The peers ----------------------------------------------------------------------------------


def polars_tables(folder: Path) -> tuple[Any, Any]:
    """The invoice lines and subscription items, the way a user would unnest them."""
    import polars as pl

    invoices = pl.read_ndjson(folder / "invoices.jsonl", infer_schema_length=None)
    line = pl.col("line")
    credits = line.struct.field("pretax_credit_amounts")
    discount = credits.list.eval(
        pl.when(pl.element().struct.field("type") == "discount").then(
            pl.element().struct.field("amount")
        )
    ).list.sum()
    lines = (
        invoices.lazy()
        .filter(pl.col("object") == "invoice", ~pl.col("status").is_in(["draft", "void"]))
        .select(
            pl.col("id").alias("invoice_id"),
            pl.col("customer").alias("customer_id"),
            pl.col("lines").struct.field("data").alias("line"),
        )
        .explode("line")
        .select(
            "invoice_id",
            "customer_id",
            line.struct.field("id").alias("line_id"),
            ((line.struct.field("amount") - discount.fill_null(0)) / 100).alias("amount"),
            line.struct.field("currency").str.to_uppercase().alias("currency"),
            pl.from_epoch(line.struct.field("period").struct.field("start"), "s")
            .dt.replace_time_zone("UTC")
            .alias("period_start"),
            pl.from_epoch(line.struct.field("period").struct.field("end"), "s")
            .dt.replace_time_zone("UTC")
            .alias("period_end"),
            line.struct.field("quantity").alias("quantity"),
        )
        .sort("customer_id", "period_start", "invoice_id")
        .collect()
    )
    subscriptions = pl.read_ndjson(folder / "subscriptions.jsonl", infer_schema_length=None)
    price = pl.col("item").struct.field("price")
    items = (
        subscriptions.lazy()
        .select(
            pl.col("id").alias("subscription_id"),
            pl.col("customer").alias("customer_id"),
            pl.col("status"),
            pl.col("items").struct.field("data").alias("item"),
        )
        .explode("item")
        .select(
            "subscription_id",
            "customer_id",
            "status",
            price.struct.field("id").alias("plan"),
            (price.struct.field("unit_amount") / 100).alias("amount"),
            pl.col("item").struct.field("quantity").alias("quantity"),
            price.struct.field("recurring").struct.field("interval").alias("interval"),
        )
        .collect()
    )
    return lines, items


def read_with(peer: str, folder: Path) -> tuple[Any, Any]:
    """The peer's invoice lines and subscription items of the export in ``folder``."""
    if peer == "polars":
        return polars_tables(folder)
    paths = {
        "subscriptions": folder / "subscriptions.jsonl",
        "invoices": folder / "invoices.jsonl",
    }
    if peer == "reference":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        import stripe_reference

        tables = stripe_reference.read(**paths)
    else:
        from csmetrics.io import stripe

        tables = stripe.read(**paths)
    return tables.invoice_lines, tables.subscriptions


def comparable(lines: Any, items: Any) -> tuple[Any, Any]:
    """What every peer gives alike: lines by id, one amount and quantity per subscription."""
    import polars as pl

    lines = lines.select(
        "line_id",
        pl.col("amount").cast(pl.Float64),
        pl.col("period_start").dt.epoch("s"),
        pl.col("period_end").dt.epoch("s"),
        pl.col("quantity").cast(pl.Int64),
    )
    items = items.group_by("subscription_id").agg(
        pl.col("amount").cast(pl.Float64).first(), pl.col("quantity").cast(pl.Int64).first()
    )
    return lines, items


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, Any]:
    folder = Path(path)
    info = json.loads((folder / "export.json").read_text())
    warm = folder.parent / "warm-up"
    write_export(warm, 20, 20)

    def compute(where: Path = folder) -> Any:
        return read_with(peer, where)

    (lines, items), figures = harness.measure(compute, repeat, warm)
    lines, items = comparable(lines, items)
    lines.write_parquet(f"{result}.lines.parquet")
    items.write_parquet(f"{result}.items.parquet")
    objects = info["objects"]["subscriptions"] + info["objects"]["invoices"]
    figures["objects_per_second"] = objects / figures["seconds"]
    figures["rows"] = {"invoice_lines": lines.height, "subscription_items": items.height}
    return figures


def disagreement(base: str, other: str) -> str | None:
    """What differs between two peers' lines and items; None when they agree."""
    import polars as pl

    lines = pl.read_parquet(f"{base}.lines.parquet")
    their_lines = pl.read_parquet(f"{other}.lines.parquet")
    if lines.height != their_lines.height:
        return f"{lines.height} invoice lines against {their_lines.height}"
    joined = lines.join(their_lines, on="line_id", how="left", suffix="_peer")
    for column in ("amount", "period_start", "period_end", "quantity"):
        bad = joined.filter((pl.col(column) - pl.col(f"{column}_peer")).abs().fill_null(1) > 1e-9)
        if bad.height:
            return f"invoice line {column} differs on {bad.height} lines, e.g. {bad.row(0)}"
    items = pl.read_parquet(f"{base}.items.parquet")
    their_items = pl.read_parquet(f"{other}.items.parquet")
    joined = items.join(their_items, on="subscription_id", how="left", suffix="_peer")
    for column in ("amount", "quantity"):
        bad = joined.filter((pl.col(column) - pl.col(f"{column}_peer")).abs().fill_null(1) > 1e-9)
        if bad.height:
            return f"subscription item {column} differs on {bad.height}, e.g. {bad.row(0)}"
    return None


# --- The command line -------------------------------------------------------------------------


def _describe(info: dict[str, Any]) -> str:
    objects, sizes = info["objects"], info["bytes"]
    total = objects["subscriptions"] + objects["invoices"]
    return (
        f"{info['customers']:,} customers ({info['invoice_customers']:,} with invoices): "
        f"{objects['subscriptions']:,} subscription objects "
        f"({sizes['subscriptions'] / 2**20:,.0f} MB), {objects['invoices']:,} invoice objects "
        f"({sizes['invoices'] / 2**20:,.0f} MB); generated in {info['generate_seconds']:.1f} s, "
        f"written by datasets.write_stripe in {info['write_seconds']:.1f} s "
        f"({total / max(info['write_seconds'], 1e-9):,.0f} objects/s)"
    )


def main() -> None:
    parser = harness.parser(__doc__, [1_000_000], 2, PEERS, size_aliases=["--customers"])
    parser.add_argument("--invoice-customers", type=int, default=100_000)
    parser.add_argument("--reference-customers", type=int, default=2_000)
    parser.add_argument("--cache", help="keep the generated exports here (and reuse them)")
    # --keys and --instants (every script's options) do not apply: Stripe ids are strings and
    # times Unix seconds.
    args = harness.parse_args(parser, run_peer)

    harness.print_versions()
    runs = harness.Runs()
    with harness.cache_folder(args.cache, "csmetrics-bench-stripe-") as cache:
        exports = [
            (f"{size:,}", size, min(size, args.invoice_customers), ["csmetrics", "polars"])
            for size in args.sizes
        ]
        if "reference" in args.peers:
            small = args.reference_customers
            exports.append((f"{small:,}", small, small, ["csmetrics", "reference", "polars"]))
        for name, customers, invoiced, peers in exports:
            peers = [p for p in peers if p in args.peers]
            folder = cache / f"stripe_{customers}_{invoiced}"
            info = write_export(folder, customers, invoiced)
            print(_describe(info))
            figures: dict[str, dict[str, Any]] = {}
            for peer in peers:
                result = str(folder / f"result.{peer}")
                out = harness.run_peer(
                    __file__, peer, str(folder), args.repeat, extra=["--result", result]
                )
                if isinstance(out, str):
                    runs.problem(name, [f"{peer} failed: {out}"])
                    continue
                figures[peer] = out | {"result": result}
            if "csmetrics" in figures:
                for peer, f in figures.items():
                    differs = (
                        None
                        if peer == "csmetrics"
                        else disagreement(figures["csmetrics"]["result"], f["result"])
                    )
                    if differs:
                        runs.problem(name, [f"{peer} disagrees with csmetrics: {differs}"])
            label = (
                f"{customers:,}",
                f"{invoiced:,}",
                f"{info['objects']['subscriptions'] + info['objects']['invoices']:,}",
            )
            runs.rows.append((label, figures))
        runs.finish(
            ["customers", "invoiced", "objects"],
            args.peers,
            "invoice lines and subscription items agree with csmetrics on every line and item",
        )
    print("\nobjects per second:")
    for label, figures in runs.rows:
        rates = ", ".join(
            f"{peer} {f['objects_per_second']:,.0f} ({1e6 / f['objects_per_second']:.1f} us an object)"
            for peer, f in figures.items()
        )
        print(f"  {label[0]} customers: {rates}")


if __name__ == "__main__":
    main()
