"""Voice of the customer: what customers write, next to their scores.

Definitions follow docs/metrics/voice-of-customer.md. Every function takes a Polars DataFrame, a
Polars LazyFrame (only the needed columns are collected) or a pandas DataFrame of survey
responses with a free-text comment column, and returns a frame of the same family.

Tokens: Unicode word boundaries (UAX #29), full Unicode case folding ("Straße" and "STRASSE"
are both ``strasse``), accents kept, tokens without a letter dropped, stop words removed (the
built-in English list by default: it keeps negations such as "not"), n-grams of 1 to
``ngrams`` tokens within a sentence. Comments in any language tokenise this way.

A theme dictionary maps each theme to a phrase or regular expression, or a list of them; a
response mentions a theme when any of its patterns matches its comment, case-insensitively, on
word boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import polars as pl

from csmetrics import _internal
from csmetrics._frames import IntoFrame, as_list, frame_function, from_polars, to_polars
from csmetrics._options import choice, guard_module, option_error, scale_pair, whole
from csmetrics.exceptions import InvalidInputError

__all__ = [
    "ENGLISH_STOP_WORDS",
    "distinctive_terms",
    "quotes",
    "sentiment",
    "themes",
    "tokenize",
]

Period = Literal["day", "week", "month", "quarter", "year"]
InvalidPolicy = Literal["raise", "drop", "null"]
StopWordsOption = Literal["english"] | Sequence[str] | None
ThemeDictionary = Mapping[str, "str | Sequence[str]"]

#: The built-in English stop words (negations such as "not" and "never" are not among them).
ENGLISH_STOP_WORDS: tuple[str, ...] = tuple(_internal.english_stop_words())


def _stop_words(stop_words: Any) -> tuple[list[str] | None, bool]:
    """(custom list or None, whether the English list is used)."""
    if stop_words is None:
        return None, False
    if isinstance(stop_words, str):
        choice(stop_words, "stop_words", ("english",))
        return None, True
    words = list(stop_words)
    for word in words:
        if not isinstance(word, str):
            raise option_error("stop_words", word, "stop words are strings")
    return words, False


def _ngrams(ngrams: Any) -> int:
    return whole(ngrams, "ngrams", minimum=1, maximum=5)


def _dictionary(dictionary: Any) -> list[tuple[str, list[str]]]:
    if not isinstance(dictionary, Mapping):
        raise option_error(
            "dictionary", type(dictionary).__name__, "expected a mapping theme -> pattern(s)"
        )
    entries = []
    for theme, patterns in dictionary.items():
        if not isinstance(theme, str):
            raise option_error("dictionary", theme, "theme names are strings")
        listed = [patterns] if isinstance(patterns, str) else patterns
        if not isinstance(listed, Sequence):
            raise option_error(
                "dictionary", f"theme {theme!r}", "patterns are a string or a list of strings"
            )
        for pattern in listed:
            if not isinstance(pattern, str):
                raise option_error(
                    "dictionary",
                    f"theme {theme!r}, pattern {pattern!r}",
                    "patterns are strings",
                )
        entries.append((theme, list(listed)))
    return entries


def _check_pandas_text(data: Any, text: str) -> None:
    """pandas object columns may mix types, which Arrow would refuse without naming the
    column: name the first value that is not a string."""
    module = type(data).__module__.split(".")[0]
    if module != "pandas" or text not in data.columns or data[text].dtype != object:
        return
    for row, value in enumerate(data[text].tolist()):
        if value is not None and not isinstance(value, str) and value == value:
            raise InvalidInputError(
                f"column '{text}', row {row}: comments must be strings or null; "
                f"found {value!r} ({type(value).__name__})"
            )


def tokenize(text: str, *, ngrams: int = 1, stop_words: StopWordsOption = "english") -> list[str]:
    """The terms of one comment, as every function of this module cuts them.

    Parameters
    ----------
    text
        The comment.
    ngrams
        Longest n-gram (1 to 5); default 1 (words only).
    stop_words
        ``"english"`` (default, ``csmetrics.feedback.ENGLISH_STOP_WORDS``), ``None`` (keep
        every token) or a list of words to remove instead.

    Returns
    -------
    list of str
        The unigrams of each sentence, then its bigrams, and so on (n-grams joined by a space).

    Examples
    --------
    >>> from csmetrics.feedback import tokenize
    >>> tokenize("The app is NOT working. Straße 2!")
    ['app', 'not', 'working', 'strasse']
    >>> tokenize("Não consegui acessar o relatório", stop_words=None, ngrams=2)[-1]
    'o relatório'
    """
    if not isinstance(text, str):
        raise option_error("text", text, "expected a string")
    words, english = _stop_words(stop_words)
    return list(_internal.tokenize(text, _ngrams(ngrams), words, english))


@frame_function
def themes(
    data: IntoFrame,
    dictionary: ThemeDictionary,
    *,
    text: str = "comment",
    score: str = "score",
    score_type: Literal["nps", "csat", "ces"] = "nps",
    scale: tuple[int, int] | None = None,
    direction: Literal["higher_is_easier", "lower_is_easier"] = "higher_is_easier",
    patterns: Literal["regex", "literal"] = "regex",
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: InvalidPolicy = "raise",
) -> Any:
    """Themes per group and their impact on the score.

    Per group and theme: the responses that mention it, their share and score, and the theme's
    impact = score(all) - score(all but the responses mentioning it), which for the NPS equals
    ``mentions * (nps - nps_overall) / (responses - mentions)``; null when every response
    mentions the theme. Rows within a group are ordered by impact, most negative first (the
    themes that pull the score down), then by theme.

    Parameters
    ----------
    data
        Survey responses: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    dictionary
        Theme -> pattern or list of patterns, e.g. ``{"billing": ["invoice", "charged? twice"]}``.
        An empty dictionary, a theme without patterns or an invalid regular expression raises
        :class:`~csmetrics.InvalidInputError` naming the theme and the pattern.
    text
        Comment column (strings; null comments mention nothing). Default ``"comment"``.
    score
        Score column. Default ``"score"``; responses without a valid score are counted in
        ``missing`` and left out.
    score_type
        ``"nps"`` (default; 0-10), ``"csat"`` (share in the top two boxes, default scale 1-5)
        or ``"ces"`` (low-effort share, default scale 1-7 with ``direction``).
    scale
        The score's scale (min, max); default ``None``: the score type's usual one.
    direction
        CES only: ``"higher_is_easier"`` (default) or ``"lower_is_easier"``.
    patterns
        ``"regex"`` (default: regular expressions, in Rust ``regex`` syntax) or ``"literal"``.
    by
        Column(s) to group by; default ``None``.
    period
        Calendar period of ``timestamp`` to group by (Date column ``period``); default ``None``.
    timestamp
        Date or Datetime column used with ``period``. Default ``"timestamp"``.
    invalid
        Scores off the scale: ``"raise"`` (default), ``"drop"`` or ``"null"`` (both counted in
        ``missing``).

    Returns
    -------
    DataFrame
        The group keys, ``theme``, ``responses``, ``mentions``, ``share``, ``mean_score``, the
        metric of the mentioning responses (``nps``, ``csat`` or ``low_effort_share``),
        ``<metric>_overall``, ``<metric>_without``, ``<metric>_impact``, ``mean_score_overall``,
        ``missing``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> responses = pl.DataFrame({
    ...     "score": [10, 9, 3, 2, 8, 10],
    ...     "comment": ["great support", "fast", "support was slow", "billing error", "ok", None],
    ... })
    >>> result = csm.themes(responses, {"support": "support", "billing": ["billing", "invoice"]})
    >>> result.select("theme", "mentions", "nps", "nps_impact").with_columns(pl.col("nps_impact").round(2))
    shape: (2, 4)
    ┌─────────┬──────────┬────────┬────────────┐
    │ theme   ┆ mentions ┆ nps    ┆ nps_impact │
    │ ---     ┆ ---      ┆ ---    ┆ ---        │
    │ str     ┆ i64      ┆ f64    ┆ f64        │
    ╞═════════╪══════════╪════════╪════════════╡
    │ billing ┆ 1        ┆ -100.0 ┆ -23.33     │
    │ support ┆ 2        ┆ 0.0    ┆ -8.33      │
    └─────────┴──────────┴────────┴────────────┘
    """
    entries = _dictionary(dictionary)
    choice(score_type, "score_type", ("nps", "csat", "ces"))
    scale_value = scale_pair(scale) if scale is not None else None
    by_list = as_list(by)
    _check_pandas_text(data, text)
    columns = [*by_list, *([timestamp] if period is not None else []), score, text]
    frame, kind = to_polars(data, columns, keys=by_list, sort_by=None)
    result = _internal.themes(
        frame,
        entries,
        text,
        score,
        score_type,
        scale_value,
        direction,
        patterns,
        by_list,
        period,
        timestamp,
        invalid,
    )
    return from_polars(result, kind)


@frame_function
def distinctive_terms(
    data: IntoFrame,
    *,
    between: str = "nps_category",
    groups: tuple[Any, Any] | None = None,
    text: str = "comment",
    score: str = "score",
    prior: Literal["informative"] | float = "informative",
    ngrams: int = 2,
    stop_words: StopWordsOption = "english",
    top: int | None = 20,
    invalid: InvalidPolicy = "raise",
) -> Any:
    """The terms that tell two groups of responses apart (detractors from promoters by default).

    Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008): with
    counts y_w in each group, group totals n and pseudo-counts a_w (a_0 their sum),
    ``delta = log((y_wa + a_w) / (n_a + a_0 - y_wa - a_w)) - log((y_wb + a_w) / (n_b + a_0 -
    y_wb - a_w))``, ``z = delta / sqrt(1 / (y_wa + a_w) + 1 / (y_wb + a_w))``.

    Parameters
    ----------
    data
        Survey responses with a comment column.
    between
        ``"nps_category"`` (default: the NPS category of ``score``) or any column whose values
        name the groups.
    groups
        The two values compared, ``(a, b)``; default ``None``: ``("detractor", "promoter")`` for
        the NPS category, or the column's two values in sorted order (a column with another
        number of values needs ``groups``). Rows in neither group still count in the prior.
    text
        Comment column. Default ``"comment"``.
    score
        0-10 score column read with ``between="nps_category"``. Default ``"score"``.
    prior
        ``"informative"`` (default: a_w = the count of w over all the responses analysed) or a
        positive number used for every term (uninformative).
    ngrams
        Longest n-gram, 1 to 5; default 2.
    stop_words
        ``"english"`` (default), ``None`` or a list of words.
    top
        Terms kept per side (default 20); ``None``: every term of either group.
    invalid
        Scores off the 0-10 scale: ``"raise"`` (default), ``"drop"`` or ``"null"``.

    Returns
    -------
    DataFrame
        ``side`` (the group the term leans to; null when z = 0), ``rank`` (1 = most
        distinctive), ``term``, ``count_a``, ``count_b``, ``delta``, ``z`` (positive for side a):
        side a's top terms, then side b's.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> pair = pl.DataFrame({
    ...     "comment": ["the quick brown fox jumps over the lazy pig",
    ...                 "the lazy purple pig jumps over the lazier donkey"],
    ...     "group": ["one", "two"],
    ... })
    >>> terms = csm.distinctive_terms(pair, between="group", prior=0.05, ngrams=1,
    ...                               stop_words=None, top=1)
    >>> terms.select("side", "term", pl.col("z").round(10)).rows()
    [('one', 'brown', 0.6894227887), ('two', 'donkey', -0.6894227887)]
    """
    prior_value: float | None
    if isinstance(prior, str):
        choice(prior, "prior", ("informative",))
        prior_value = None
    elif isinstance(prior, (int, float)) and not isinstance(prior, bool):
        prior_value = float(prior)
    else:
        raise option_error("prior", prior, "expected 'informative' or a positive number")
    top_value = None if top is None else whole(top, "top", minimum=1)
    pair = None
    if groups is not None:
        if not isinstance(groups, (tuple, list)) or len(groups) != 2:
            raise option_error("groups", groups, "expected a pair (a, b) of values")
        pair = (str(groups[0]), str(groups[1]))
    words, english = _stop_words(stop_words)
    by_category = between == "nps_category"
    _check_pandas_text(data, text)
    columns = [text, score] if by_category else [text, between]
    frame, kind = to_polars(data, columns)
    result = _internal.distinctive_terms(
        frame,
        text,
        score,
        None if by_category else between,
        pair,
        prior_value,
        _ngrams(ngrams),
        words,
        english,
        top_value,
        invalid,
    )
    return from_polars(result, kind)


@frame_function
def sentiment(
    data: IntoFrame,
    *,
    text: str = "comment",
    score: str | None = "score",
    invalid: InvalidPolicy = "raise",
) -> Any:
    """VADER sentiment of every comment, with the mismatch between comment and score.

    The compound score (Hutto & Gilbert 2014; the lexicon of vaderSentiment 3.3.2, MIT) lies in
    [-1, 1]; a comment is ``"negative"`` below -0.05, ``"positive"`` above 0.05, else
    ``"neutral"``. A mismatch is a promoter who writes negatively or a detractor who writes
    positively.

    Parameters
    ----------
    data
        Survey responses with a comment column.
    text
        Comment column. Default ``"comment"``.
    score
        0-10 score column for ``nps_category`` and ``mismatch``; default ``"score"``; ``None``:
        no such columns.
    invalid
        Scores off the 0-10 scale: ``"raise"`` (default), ``"drop"`` or ``"null"`` (then no
        category and a null mismatch).

    Returns
    -------
    DataFrame
        The input's columns (all of them), then ``compound`` (null for a null comment),
        ``sentiment``, and with ``score`` also ``nps_category`` and ``mismatch`` (null when the
        score or the comment is missing). One row per input row, in input order.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> comments = ["The onboarding was awful!", "Love it"]
    >>> answers = pl.DataFrame({"score": [10, 2], "comment": comments})
    >>> scored = csm.sentiment(answers).with_columns(pl.col("compound").round(4))
    >>> scored.select("compound", "sentiment", "mismatch").rows()
    [(-0.5093, 'negative', True), (0.6369, 'positive', True)]
    """
    _check_pandas_text(data, text)
    if score is not None and not isinstance(score, str):
        raise option_error("score", score, "expected a column name or None")
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    full, kind = to_polars(data, _all_columns(data))
    needed = [text, *([score] if score is not None else [])]
    frame = full.select(needed) if all(c in full.columns for c in needed) else full.head(0)
    result = _internal.sentiment(frame, text, score, invalid)
    clashes = [c for c in result.columns if c in full.columns]
    return from_polars(full.drop(clashes).hstack(result), kind)


def _all_columns(data: Any) -> list[str]:
    from csmetrics._frames import column_names

    return column_names(data)


@frame_function
def quotes(
    data: IntoFrame,
    dictionary: ThemeDictionary,
    *,
    text: str = "comment",
    score: str = "score",
    k: int = 3,
    terms: int = 20,
    patterns: Literal["regex", "literal"] = "regex",
    ngrams: int = 2,
    stop_words: StopWordsOption = "english",
    invalid: InvalidPolicy = "raise",
) -> Any:
    """Representative comments per theme and NPS category, chosen deterministically.

    The distinctive terms of a theme and category are the ``terms`` terms of highest log-odds z
    (informative prior) for the category's responses that mention the theme against all the
    other commented responses. The quotes are those responses with the most distinct
    distinctive terms; ties go to the shorter comment (in characters), then the earlier row.
    Comments with the same terms (whatever the case and punctuation) are quoted once per theme
    and category.

    Parameters
    ----------
    data
        Survey responses with a comment and a 0-10 score.
    dictionary
        Theme -> pattern(s), as in :func:`themes`.
    text, score
        Comment and score columns. Defaults ``"comment"``, ``"score"``.
    k
        Quotes per theme and category; default 3.
    terms
        Distinctive terms per theme a quote is scored on; default 20.
    patterns, ngrams, stop_words, invalid
        As in :func:`themes` and :func:`distinctive_terms` (defaults ``"regex"``, 2,
        ``"english"``, ``"raise"``).

    Returns
    -------
    DataFrame
        ``theme`` (sorted), ``nps_category`` (detractor, passive, promoter), ``rank``, ``row``
        (zero-based row of the input), ``comment``, ``matched`` (how many distinctive terms it
        holds) and ``terms`` (those terms, comma separated).

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> answers = pl.DataFrame({
    ...     "score": [1, 2, 10],
    ...     "comment": ["billing was wrong twice", "billing", "fast support"],
    ... })
    >>> csm.quotes(answers, {"billing": "billing"}, k=1)["comment"].to_list()
    ['billing was wrong twice']
    """
    entries = _dictionary(dictionary)
    words, english = _stop_words(stop_words)
    _check_pandas_text(data, text)
    frame, kind = to_polars(data, [text, score])
    result = _internal.quotes(
        frame,
        entries,
        text,
        score,
        patterns,
        _ngrams(ngrams),
        words,
        english,
        whole(k, "k", minimum=1),
        whole(terms, "terms", minimum=1),
        invalid,
    )
    return from_polars(result, kind)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
