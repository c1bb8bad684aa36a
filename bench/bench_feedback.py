"""Voice of the customer: csmetrics against the Python a data scientist would write.

Three jobs on generated survey comments (``datasets.feedback_responses``: NPS answers with
comments from per-theme phrase sets), each peer in its own process:

- ``themes``: mentions, NPS and NPS impact of a 20-theme dictionary (the generator's 8 themes
  and 12 more): csmetrics' ``themes`` against pandas ``str.contains`` per theme (Python ``re``,
  case-insensitive, on word boundaries) and numpy;
- ``terms``: detractor-against-promoter weighted log-odds with the informative prior, 1- and
  2-grams, English stop words: csmetrics' ``distinctive_terms`` against scikit-learn's
  ``CountVectorizer`` (on sentences, so that bigrams do not cross a sentence end, as in
  csmetrics; with csmetrics' stop-word list) and numpy for the log-odds;
- ``sentiment``: VADER compound score of every comment: csmetrics' ``sentiment`` against the
  vaderSentiment 3.3.2 package.

The Python peer runs in the reference environment (``.venv-ref``: scikit-learn, vaderSentiment).
Every peer's result is checked against csmetrics' before any time is printed (themes and terms
within 1e-9 relative, compound scores within 5e-5, vaderSentiment's rounding to 4 decimals);
the script exits non-zero if one differs. Prints the best of ``--repeat`` runs, the peak
resident memory above the loaded data, and each peer's time as a ratio to csmetrics'; the
``total`` row adds the three jobs. It asserts nothing about time.

    python bench/bench_feedback.py --reference-python .venv-ref/bin/python       # 1M and 10M
    python bench/bench_feedback.py --sizes 1000000 --python-max 1000000          # a quick run
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

PEERS = ["csmetrics", "python"]
JOBS = ["themes", "terms", "sentiment"]
EXTRA_THEMES = {
    "security": ["security", "secure", "password"],
    "mobile": ["mobile", "iphone", "android"],
    "reporting": ["reports?", "reporting", "dashboards?"],
    "documentation": ["documentation", "docs"],
    "training": ["training", "webinars?"],
    "notifications": ["notifications?", "alerts?", "emails?"],
    "search": ["search", "filters?"],
    "export": ["export", "csv", "excel"],
    "permissions": ["permissions?", "roles?", "access"],
    "sso": ["sso", "single sign on", "okta"],
    "team": ["team", "colleagues?"],
    "speed": ["fast", "quick(?:ly)?", "minutes"],
}


def _dictionary() -> dict[str, list[str]]:
    from csmetrics import datasets

    return {**datasets.feedback_dictionary(), **EXTRA_THEMES}


def _generate(size: int, folder: str) -> str:
    from csmetrics import datasets

    path = str(Path(folder) / f"feedback_{size}.parquet")
    frame = datasets.feedback_responses(size, customers=max(1, size // 5), months=24, seed=17)
    frame.select("nps", "comment").write_parquet(path)
    with open(f"{path}.json", "w") as f:
        json.dump(
            {
                "dictionary": _dictionary(),
                "stop_words": list(__import__("csmetrics").feedback.ENGLISH_STOP_WORDS),
            },
            f,
        )
    return path


# --- csmetrics ----------------------------------------------------------------------------------


def _csmetrics(job: str, path: str, repeat: int, result: str) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    import csmetrics as csm

    frame = pl.read_parquet(path)
    dictionary = json.load(open(f"{path}.json"))["dictionary"]
    sample = frame.head(harness.SAMPLE)

    def compute(data: Any = frame) -> Any:
        if job == "themes":
            return csm.themes(data, dictionary, score="nps")
        if job == "terms":
            return csm.distinctive_terms(data, score="nps", top=None)
        return csm.sentiment(data, score=None)["compound"]

    out, figures = harness.measure(compute, repeat, sample)
    if job == "themes":
        harness.save_result(
            result,
            out["theme"].to_list(),
            {c: out[c].to_numpy() for c in ("mentions", "nps", "nps_impact")},
        )
    elif job == "terms":
        harness.save_result(
            result,
            out["term"].to_list(),
            {c: out[c].to_numpy() for c in ("count_a", "count_b", "z")},
        )
    else:
        valid = out.is_not_null().to_numpy()
        rows = np.flatnonzero(valid)
        harness.save_result(
            result,
            [str(r) for r in rows],
            {"compound": out.to_numpy()[valid]},
            atol=np.full(rows.size, 5e-5),
        )
    return figures


# --- the Python a data scientist would write -------------------------------------------------


def _python(job: str, path: str, repeat: int, result: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(path)
    spec = json.load(open(f"{path}.json"))
    sample = frame.head(harness.SAMPLE)

    def categories(data: Any) -> Any:
        score = data["nps"].to_numpy()
        return np.where(score >= 9, 1, np.where(score <= 6, -1, 0))

    def themes(data: Any) -> Any:
        category = categories(data)
        text = data["comment"].fillna("")
        total, n = category.sum(), category.size
        rows = []
        for theme, patterns in spec["dictionary"].items():
            pattern = r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b"
            mentioned = text.str.contains(pattern, flags=re.IGNORECASE, regex=True).to_numpy()
            count = int(mentioned.sum())
            inside = category[mentioned].sum()
            nps = 100 * inside / count if count else np.nan
            without = 100 * (total - inside) / (n - count) if n > count else np.nan
            rows.append((theme, count, nps, 100 * total / n - without))
        return rows

    def terms(data: Any) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        category = categories(data)
        comments = data["comment"]
        has = comments.notna().to_numpy()
        sentences = comments[has].str.split(r"[.!?\n\r]+", regex=True).explode()
        pieces = comments[has].str.count(r"[.!?\n\r]+").to_numpy() + 1
        owner = np.repeat(category[has], pieces)
        vectorizer = CountVectorizer(
            token_pattern=r"(?u)\b\w+\b",
            ngram_range=(1, 2),
            stop_words=spec["stop_words"],
        )
        counts = vectorizer.fit_transform(sentences.fillna("").to_numpy())
        background = np.asarray(counts.sum(axis=0)).ravel().astype(float)
        ya = np.asarray(counts[owner == -1].sum(axis=0)).ravel().astype(float)
        yb = np.asarray(counts[owner == 1].sum(axis=0)).ravel().astype(float)
        a0, na, nb = background.sum(), ya.sum(), yb.sum()
        delta = np.log((ya + background) / (na + a0 - ya - background)) - np.log(
            (yb + background) / (nb + a0 - yb - background)
        )
        z = delta / np.sqrt(1 / (ya + background) + 1 / (yb + background))
        keep = (ya + yb) > 0
        names = vectorizer.get_feature_names_out()
        return names[keep], ya[keep], yb[keep], z[keep]

    def sentiment(data: Any) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        return [
            None if c is None else analyzer.polarity_scores(c)["compound"]
            for c in data["comment"].tolist()
        ]

    compute_job = {"themes": themes, "terms": terms, "sentiment": sentiment}[job]
    out, figures = harness.measure(lambda data=frame: compute_job(data), repeat, sample)
    if job == "themes":
        harness.save_result(
            result,
            [r[0] for r in out],
            {
                "mentions": [r[1] for r in out],
                "nps": [r[2] for r in out],
                "nps_impact": [r[3] for r in out],
            },
        )
    elif job == "terms":
        names, ya, yb, z = out
        harness.save_result(result, list(names), {"count_a": ya, "count_b": yb, "z": z})
    else:
        rows = [i for i, c in enumerate(out) if c is not None]
        harness.save_result(result, [str(r) for r in rows], {"compound": [out[r] for r in rows]})
    return figures


def _run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, Any]:
    job = Path(path).stem.split("_")[0]
    return (_csmetrics if peer == "csmetrics" else _python)(job, path, repeat, result)


def main() -> None:
    parser = harness.parser(__doc__ or "", [1_000_000, 10_000_000], 1, PEERS, slow_max="python")
    parser.add_argument("--reference-python", default=".venv-ref/bin/python")
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=JOBS)
    args = harness.parse_args(parser, _run_peer)
    harness.print_versions()
    runs = harness.Runs()
    pythons = {"python": args.reference_python}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            path = _generate(size, tmp)
            print(f"{size:,} comments generated in {time.perf_counter() - started:.1f} s")
            peers = [p for p in args.peers if p != "python" or size <= args.python_max]
            total: dict[str, dict[str, Any]] = {}
            for job in args.jobs:
                # One name per job (links to the same data): the job is read from it, and each
                # job's results sit next to it.
                linked = str(Path(tmp) / f"{job}_{size}.parquet")
                os.symlink(path, linked)
                os.symlink(f"{path}.json", f"{linked}.json")
                figures = runs.run(
                    __file__,
                    (f"{size:,}", job),
                    peers,
                    linked,
                    args.repeat,
                    pythons=pythons,
                )
                for peer, f in figures.items():
                    t = total.setdefault(peer, {"seconds": 0.0, "peak_extra_mb": 0.0})
                    t["seconds"] += f["seconds"]
                    t["peak_extra_mb"] = max(t["peak_extra_mb"], f["peak_extra_mb"])
            if len(args.jobs) > 1:
                runs.rows.append(((f"{size:,}", "total"), total))
    runs.finish(
        ["comments", "job"],
        args.peers,
        note="python = pandas str.contains + scikit-learn CountVectorizer + numpy + "
        "vaderSentiment 3.3.2; total: the jobs' seconds added, the largest peak",
    )


if __name__ == "__main__":
    main()
