"""The command line."""

from __future__ import annotations

import pytest

from csmetrics.cli import main


def test_demo_prints_the_main_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "2000", "--months", "12"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "MRR bridge",
        "Revenue KPIs",
        "Logo churn by segment",
        "NPS by segment and quarter",
    ):
        assert heading in out
    assert "enterprise" in out and "2023-12-01" in out
