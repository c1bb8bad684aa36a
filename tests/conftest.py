import sys
from pathlib import Path

import pytest
from hypothesis import settings

# The test modules import their shared builders (builders.py) from this folder; it holds no
# tests or doctests to collect.
sys.path.insert(0, str(Path(__file__).parent))
collect_ignore = ["builders.py"]

settings.register_profile("csmetrics", deadline=None, max_examples=60)
settings.load_profile("csmetrics")


def _attention_rows(text: str) -> dict[str, dict[str, str]]:
    """The rows of a report's "customers who need attention" table by customer id: column ->
    cell text."""
    import re

    table = text.split('id="attention-table"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th>(.*?)</th>", table)
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    return {row[0]: dict(zip(head, row, strict=True)) for row in cells}


@pytest.fixture
def attention_rows():
    """The reader of a report's attention table (see :func:`_attention_rows`)."""
    return _attention_rows


def _same_under_old_name(function, data, old: dict, new: dict, match: str):
    """``function(data, **old)`` warns (DeprecationWarning matching ``match``) and gives what
    ``function(data, **new)`` gives; returns that result."""
    from polars.testing import assert_frame_equal

    with pytest.warns(DeprecationWarning, match=match) as caught:
        before = function(data, **old)
    # The warning points at the caller's line, not inside csmetrics.
    assert all("csmetrics" not in str(w.filename) for w in caught), [w.filename for w in caught]
    after = function(data, **new)
    assert_frame_equal(before, after)
    return after


@pytest.fixture
def same_under_old_name():
    """The check of a deprecated keyword or value (see :func:`_same_under_old_name`)."""
    return _same_under_old_name
