"""The command line."""

from __future__ import annotations

import pytest
from csmetrics.cli import main


def test_demo_prints_survey_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--responses", "5000", "--customers", "500", "--months", "3"]) == 0
    out = capsys.readouterr().out
    assert "NPS by segment and month" in out
    assert "enterprise" in out and "2024-03-01" in out
