"""Voice of the customer (csmetrics.feedback) through the public API.

Values are checked against hand computations, the survey module's NPS, an independent numpy
computation of the log-odds, and the planted behaviour of the generator.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics import datasets
from csmetrics import expr as cse
from csmetrics.feedback import ENGLISH_STOP_WORDS, tokenize

# --- tokens -----------------------------------------------------------------------------------


def test_tokens_in_several_languages() -> None:
    # Portuguese and Romanian keep their accents; Arabic has no case; German folds ß fully.
    assert tokenize("Não consegui ACESSAR o relatório", stop_words=None) == [
        "não",
        "consegui",
        "acessar",
        "o",
        "relatório",
    ]
    assert tokenize("Aplicația se blochează, FACTURA e greșită", stop_words=None) == [
        "aplicația",
        "se",
        "blochează",
        "factura",
        "e",
        "greșită",
    ]
    assert tokenize("الفاتورة خاطئة. الدعم ممتاز", stop_words=None, ngrams=2) == [
        "الفاتورة",
        "خاطئة",
        "الفاتورة خاطئة",
        "الدعم",
        "ممتاز",
        "الدعم ممتاز",
    ]
    assert tokenize("STRASSE und Straße", stop_words=None) == ["strasse", "und", "strasse"]
    # Greek final sigma folds to the medial one, so both spellings are one term.
    assert tokenize("ΟΔΟΣ οδος", stop_words=None) == ["οδοσ", "οδοσ"]


def test_tokens_drop_numbers_and_stop_words_keep_negations() -> None:
    assert tokenize("I can't log in since 2 May, it's NOT working!!") == [
        "can't",
        "log",
        "since",
        "may",
        "not",
        "working",
    ]
    assert "not" not in ENGLISH_STOP_WORDS and "the" in ENGLISH_STOP_WORDS
    # Bigrams never cross a sentence end.
    assert tokenize("Slow app. Great team", ngrams=2) == [
        "slow",
        "app",
        "slow app",
        "great",
        "team",
        "great team",
    ]
    assert tokenize("the app", stop_words=["APP"]) == ["the"]


# --- themes -----------------------------------------------------------------------------------

RESPONSES = pl.DataFrame(
    {
        "score": [10, 9, 3, 2, 8, 10],
        "comment": [
            "great support",
            "fast",
            "SUPPORT was slow",
            "billing error",
            "supportive team",
            None,
        ],
        "segment": ["a", "a", "a", "b", "b", "b"],
    }
)
DICTIONARY = {"support": "support", "billing": ["billing", "invoices?"]}


def test_themes_by_hand() -> None:
    result = csm.themes(RESPONSES, DICTIONARY)
    # Overall 3 promoters, 2 detractors of 6. Billing: row 3 (a detractor) alone: -100, the
    # rest 3 promoters and 1 detractor of 5: 40. Support: rows 0 and 2 ("supportive" is
    # another word; matching ignores case): 0, the rest 2 promoters, 1 detractor of 4: 25.
    overall = 100 / 6
    expected = pl.DataFrame(
        {
            "theme": ["billing", "support"],
            "responses": [6, 6],
            "mentions": [1, 2],
            "share": [1 / 6, 2 / 6],
            "mean_score": [2.0, 6.5],
            "nps": [-100.0, 0.0],
            "nps_overall": [overall, overall],
            "nps_without": [40.0, 25.0],
            "nps_impact": [overall - 40, overall - 25],
            "mean_score_overall": [42 / 6, 42 / 6],
            "missing": [0, 0],
        }
    )
    assert_frame_equal(result, expected)


def test_themes_impact_identity_and_overall_nps_on_generated_data() -> None:
    answers = datasets.feedback_responses(20_000, customers=2_000, months=12, seed=3)
    result = csm.themes(
        answers, datasets.feedback_dictionary(), score="nps", by="segment", period="quarter"
    )
    reference = csm.nps(answers, score="nps", by="segment", period="quarter", ci=None)
    joined = result.join(reference, on=["segment", "period"], suffix="_survey")
    # The overall NPS is the survey module's; the impact satisfies the identity of the contract.
    assert (joined["nps_overall"] - joined["nps_survey"]).abs().max() < 1e-9
    identity = (
        joined["mentions"]
        * (joined["nps"] - joined["nps_overall"])
        / (joined["responses"] - joined["mentions"])
    )
    assert (joined["nps_impact"] - identity).abs().max() < 1e-9
    assert result.height == 8 * joined.select("segment", "period").unique().height


def test_planted_billing_theme_ranks_first_and_its_words_are_distinctive() -> None:
    answers = datasets.feedback_responses(50_000, customers=5_000, months=12, seed=11)
    ranked = csm.themes(answers, datasets.feedback_dictionary(), score="nps")
    assert ranked["theme"][0] == "billing"
    assert ranked["nps_impact"][0] < min(0.0, ranked["nps_impact"][1])
    # Detractors who churn write about billing most: among them billing is the first theme.
    churners = answers.filter(pl.col("churned") & (pl.col("nps") <= 6))
    mentions = csm.themes(churners, datasets.feedback_dictionary(), score="nps")
    assert mentions.sort("mentions", descending=True)["theme"][0] == "billing"
    terms = csm.distinctive_terms(answers, score="nps", top=10)
    detractor_terms = terms.filter(pl.col("side") == "detractor")["term"].to_list()
    # The words of the generator's negative billing sentences.
    billing_words = {"refund", "invoice", "invoices", "billing", "charged", "twice", "errors"}

    def about_billing(term: str) -> bool:
        return bool(billing_words & set(term.split()))

    assert sum(map(about_billing, detractor_terms)) >= 4, detractor_terms
    promoter_terms = terms.filter(pl.col("side") == "promoter")["term"].to_list()
    assert not any(map(about_billing, promoter_terms)), promoter_terms


def test_themes_csat_and_ces() -> None:
    frame = pl.DataFrame(
        {"score": [5, 4, 1, 2], "comment": ["slow app", "fine", "app crashed", "ok"]}
    )
    csat = csm.themes(frame, {"app": "app"}, score_type="csat")
    # App: 5 and 1: mean 3, top-two share 1/2, the same as the others (4 and 2).
    assert csat.select("mean_score", "csat", "csat_overall", "csat_impact").row(0) == (
        3.0,
        0.5,
        0.5,
        0.0,
    )
    ces = csm.themes(frame, {"app": "app"}, score_type="ces", scale=(1, 5))
    # Top three boxes of 1-5 (3, 4, 5): app 1 of 2; overall 2 of 4; the others 1 of 2.
    assert ces.select("low_effort_share", "low_effort_share_impact").row(0) == (0.5, 0.0)


def test_themes_every_response_mentions_gives_null_impact() -> None:
    frame = pl.DataFrame({"score": [9, 3], "comment": ["app", "APP!"]})
    result = csm.themes(frame, {"app": "app"})
    assert result["nps"][0] == 0.0
    assert result["nps_impact"][0] is None


# --- distinctive terms --------------------------------------------------------------------------


def test_log_odds_check_value() -> None:
    pair = pl.DataFrame(
        {
            "comment": [
                "the quick brown fox jumps over the lazy pig",
                "the lazy purple pig jumps over the lazier donkey",
            ],
            "side": ["x", "y"],
        }
    )
    result = csm.distinctive_terms(
        pair, between="side", prior=0.05, ngrams=1, stop_words=None, top=None
    )
    z = dict(zip(result["term"], result["z"], strict=True))
    for word in ("quick", "brown", "fox"):
        assert z[word] == pytest.approx(0.6894227887, abs=1e-10)
    for word in ("purple", "lazier", "donkey"):
        assert z[word] == pytest.approx(-0.6894227887, abs=1e-10)
    assert all(z[w] == 0.0 for w in ("the", "lazy", "pig", "jumps", "over"))


def test_log_odds_against_numpy_on_generated_data() -> None:
    answers = datasets.feedback_responses(3_000, customers=500, months=6, seed=5)
    result = csm.distinctive_terms(answers, score="nps", top=None, ngrams=1)
    # Independent count and formula: Python counters over the tokens, numpy arithmetic.
    counts: dict[str, Counter[str]] = {"detractor": Counter(), "promoter": Counter()}
    background: Counter[str] = Counter()
    for score, comment in answers.select("nps", "comment").iter_rows():
        if comment is None:
            continue
        tokens = tokenize(comment)
        background.update(tokens)
        if score <= 6:
            counts["detractor"].update(tokens)
        elif score >= 9:
            counts["promoter"].update(tokens)
    vocabulary = sorted(set(counts["detractor"]) | set(counts["promoter"]))
    ya = np.array([counts["detractor"][w] for w in vocabulary], dtype=float)
    yb = np.array([counts["promoter"][w] for w in vocabulary], dtype=float)
    prior = np.array([background[w] for w in vocabulary], dtype=float)
    a0 = float(sum(background.values()))
    na, nb = ya.sum(), yb.sum()
    delta = np.log((ya + prior) / (na + a0 - ya - prior)) - np.log(
        (yb + prior) / (nb + a0 - yb - prior)
    )
    z = delta / np.sqrt(1 / (ya + prior) + 1 / (yb + prior))
    expected = dict(zip(vocabulary, z, strict=True))
    got = dict(zip(result["term"], result["z"], strict=True))
    assert set(got) == set(expected)
    assert max(abs(got[w] - expected[w]) for w in vocabulary) < 1e-9
    count_a = dict(zip(result["term"], result["count_a"], strict=True))
    assert all(count_a[w] == counts["detractor"][w] for w in vocabulary)


def test_distinctive_terms_between_a_column_needs_two_values() -> None:
    frame = pl.DataFrame({"comment": ["a b", "c", "d"], "plan": ["x", "y", "z"]})
    with pytest.raises(csm.InvalidInputError, match="column 'plan' has 3 distinct values"):
        csm.distinctive_terms(frame, between="plan")
    result = csm.distinctive_terms(frame, between="plan", groups=("x", "z"), stop_words=None)
    assert set(result["side"]) == {"x", "z"}


# --- sentiment ----------------------------------------------------------------------------------


def _norm(x: float) -> float:
    return x / math.sqrt(x * x + 15)


def test_sentiment_by_hand_and_mismatch() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "score": [10, 2, 9, None],
            # good 1.9; "not" negates (x -0.74); "very" boosts (+0.293); "!" adds 0.292.
            "comment": ["not good", "very good!", None, "good"],
        }
    )
    result = csm.sentiment(frame)
    assert result.columns == [
        "id",
        "score",
        "comment",
        "compound",
        "sentiment",
        "nps_category",
        "mismatch",
    ]
    compound = result["compound"].to_list()
    assert compound[0] == pytest.approx(_norm(1.9 * -0.74), abs=1e-12)
    assert compound[1] == pytest.approx(_norm(1.9 + 0.293 + 0.292), abs=1e-12)
    assert compound[2] is None
    assert result["sentiment"].to_list() == ["negative", "positive", None, "positive"]
    # A promoter writing negatively and a detractor writing positively are mismatches.
    assert result["mismatch"].to_list() == [True, True, None, None]


def test_sentiment_expression_equals_the_eager_function() -> None:
    answers = datasets.feedback_responses(2_000, customers=200, months=3, seed=2)
    eager = csm.sentiment(answers, score="nps")["compound"]
    expression = answers.select(pl.col("comment").cs.sentiment())["comment"]
    assert_frame_equal(pl.DataFrame({"x": eager}), pl.DataFrame({"x": expression}))
    by_segment = (
        answers.group_by("segment")
        .agg(cse.sentiment("comment").mean().alias("mean"))
        .sort("segment")
    )
    reference = (
        answers.with_columns(eager.alias("c"))
        .group_by("segment")
        .agg(pl.col("c").mean().alias("mean"))
        .sort("segment")
    )
    assert_frame_equal(by_segment, reference)
    with pytest.raises(pl.exceptions.ComputeError, match="'score'"):
        pl.DataFrame({"score": [1]}).select(cse.sentiment("score"))


# --- quotes -------------------------------------------------------------------------------------


def test_quotes_are_deterministic_and_ranked() -> None:
    frame = pl.DataFrame(
        {
            "comment": [
                "billing invoice wrong",
                "billing wrong",
                "billing",
                "fast support",
                "billing invoice wrong again twice",
            ],
            "score": [1, 2, 3, 10, 0],
        }
    )
    result = csm.quotes(frame, {"billing": "billing"}, k=2, ngrams=1, stop_words=None)
    # Every detractor word leans to the theme; row 4 holds 5 of them, row 0 three.
    assert result.select("theme", "nps_category", "rank", "row", "matched").rows() == [
        ("billing", "detractor", 1, 4, 5),
        ("billing", "detractor", 2, 0, 3),
    ]
    assert_frame_equal(
        result, csm.quotes(frame, {"billing": "billing"}, k=2, ngrams=1, stop_words=None)
    )


def test_quotes_of_generated_data_mention_their_theme() -> None:
    answers = datasets.feedback_responses(5_000, customers=500, months=6, seed=9)
    dictionary = datasets.feedback_dictionary()
    result = csm.quotes(answers, dictionary, score="nps", k=2)
    assert set(result["nps_category"]) <= {"detractor", "passive", "promoter"}
    assert result.group_by("theme", "nps_category").len()["len"].max() == 2
    for theme, comment in result.select("theme", "comment").iter_rows():
        mentions = csm.themes(
            pl.DataFrame({"comment": [comment], "score": [5]}), {theme: dictionary[theme]}
        )
        assert mentions["mentions"][0] == 1


# --- frames in and out, bad input ----------------------------------------------------------------


def test_pandas_and_lazy_frames() -> None:
    expected = csm.themes(RESPONSES, DICTIONARY, by="segment")
    from_pandas = csm.themes(RESPONSES.to_pandas(), DICTIONARY, by="segment")
    assert isinstance(from_pandas, pd.DataFrame)
    assert_frame_equal(pl.from_pandas(from_pandas), expected)
    assert_frame_equal(csm.themes(RESPONSES.lazy(), DICTIONARY, by="segment"), expected)
    scored = csm.sentiment(RESPONSES.to_pandas())
    assert isinstance(scored, pd.DataFrame) and list(scored.columns[:3]) == list(RESPONSES.columns)
    terms = csm.distinctive_terms(RESPONSES.to_pandas(), top=None)
    assert isinstance(terms, pd.DataFrame)


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(csm.InvalidInputError, match="at least one theme"):
        csm.themes(RESPONSES, {})
    with pytest.raises(csm.InvalidInputError, match=r"theme 'billing', pattern 'invoice\('"):
        csm.themes(RESPONSES, {"billing": ["invoice("]})
    with pytest.raises(csm.InvalidInputError, match="pattern may not be empty"):
        csm.quotes(RESPONSES, {"x": ""})
    numbers = pl.DataFrame({"score": [9, 3], "comment": [1, 2]})
    with pytest.raises(csm.CsMetricsError, match="column 'comment' has type Int64"):
        csm.themes(numbers, DICTIONARY)
    mixed = pd.DataFrame({"score": [9, 3], "comment": ["fine", 42]})
    with pytest.raises(csm.InvalidInputError, match=r"column 'comment', row 1.*42"):
        csm.sentiment(mixed)
    with pytest.raises(csm.InvalidInputError, match="column 'score', row 1"):
        csm.themes(pl.DataFrame({"score": [9, 11], "comment": ["a", "b"]}), DICTIONARY)
    with pytest.raises(csm.MissingColumnError, match="comment"):
        csm.distinctive_terms(pl.DataFrame({"score": [1]}))
    with pytest.raises(csm.InvalidInputError, match="prior"):
        csm.distinctive_terms(RESPONSES, prior=-1.0)
    with pytest.raises(csm.InvalidInputError, match="ngrams"):
        tokenize("x", ngrams=0)
