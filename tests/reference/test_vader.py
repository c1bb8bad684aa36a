"""csmetrics' VADER sentiment against vaderSentiment 3.3.2 (the reference implementation).

Several hundred sentences: hand-written ones for each rule (boosters, negations, "but", "least",
"no", capitals, punctuation, idioms, emojis, other languages) and random ones drawn from a
vocabulary that mixes lexicon words with modifiers. The compound scores agree to 1e-4 (the
reference rounds them to 4 decimals).
"""

from __future__ import annotations

import random

import polars as pl
import pytest

import csmetrics as csm

vader = pytest.importorskip("vaderSentiment.vaderSentiment")

HAND_WRITTEN = [
    "The onboarding was good.",
    "The onboarding was not good.",
    "The onboarding was very good!!",
    "The onboarding was VERY GOOD, support was fine.",
    "Support is kind of helpful",
    "Support is sort of slow but the product is great",
    "Billing was awful but support fixed it quickly :)",
    "Never been this good",
    "It has never been so bad",
    "Without a doubt, a great tool.",
    "At least it is not a terrible product.",
    "The least useful feature of all.",
    "No problems at all, no complaints",
    "no good reason to stay",
    "not bad at all",
    "Isn't great, isn't horrible",
    "I don't love it and I don't hate it",
    "The dashboard is the bomb",
    "Yeah right, as if that would work",
    "It is to die for",
    "Really really slow???",
    "Why does it crash????",
    "Refund now!!!!!!",
    "I HATE the new pricing",
    "GREAT",
    "great GREAT great",
    "ok",
    "",
    "   ",
    "12345",
    "Love it 😍 but the app crashes 😡",
    "😀😀😀",
    "The support team is friendly 👍",
    "Não gostei do suporte, muito lento",
    "Aplicația e bună",
    "الخدمة ممتازة",
    "hardly good",
    "barely working, slightly better than last month",
    "extremely disappointed with the extremely slow support",
    "It's fine, I guess.",
    "Could be better, could be worse",
    "Not such a badass after all",
    "kinda sux but ok",
    "The app is uber fast",
    "Fantastic! Seamless! Wonderful!",
    "terrible, horrible, no good, very bad day",
    "happy happy joy joy",
    "The worst support ever. Never again!",
    "nothing good to say",
    "no, not good",
    "good, but not great, but fine",
]

WORDS = [
    "good",
    "bad",
    "great",
    "terrible",
    "love",
    "hate",
    "slow",
    "fast",
    "helpful",
    "useless",
    "happy",
    "angry",
    "excellent",
    "poor",
    "fine",
    "awful",
    "nice",
    "broken",
    "amazing",
    "worst",
    "very",
    "extremely",
    "kind",
    "of",
    "sort",
    "slightly",
    "barely",
    "really",
    "so",
    "not",
    "never",
    "no",
    "without",
    "doubt",
    "but",
    "least",
    "at",
    "the",
    "support",
    "billing",
    "app",
    "is",
    "was",
    "and",
    "this",
    "isn't",
    "don't",
    "nor",
    "or",
    "GREAT",
    "BAD",
    "VERY",
    "LOVE",
    ":)",
    ":(",
    ":D",
    "lol",
    "wtf",
    "the",
    "bomb",
    "kiss",
    "death",
    "yeah",
    "right",
]
ENDINGS = ["", ".", "!", "!!", "!!!", "?", "??", "????", "!?", "...", " :)"]


def _random_sentences(count: int) -> list[str]:
    draw = random.Random(20260101)
    sentences = []
    for _ in range(count):
        length = draw.randint(1, 12)
        words = [draw.choice(WORDS) for _ in range(length)]
        if draw.random() < 0.2:
            words[0] = words[0].capitalize()
        sentences.append(" ".join(words) + draw.choice(ENDINGS))
    return sentences


SENTENCES = HAND_WRITTEN + _random_sentences(450)


def test_compound_matches_vader_sentiment() -> None:
    analyzer = vader.SentimentIntensityAnalyzer()
    expected = [analyzer.polarity_scores(s)["compound"] for s in SENTENCES]
    frame = pl.DataFrame({"comment": SENTENCES})
    got = csm.sentiment(frame, score=None)["compound"].to_list()
    differences = [
        (s, g, e) for s, g, e in zip(SENTENCES, got, expected, strict=True) if abs(g - e) > 1e-4
    ]
    assert not differences, differences[:5]
    assert len(SENTENCES) >= 500
    # The sentences are varied: positive, negative and neutral ones all occur.
    assert min(expected) < -0.5 and max(expected) > 0.5 and expected.count(0.0) > 10
