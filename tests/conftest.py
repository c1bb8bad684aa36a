import pytest
from hypothesis import settings

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
