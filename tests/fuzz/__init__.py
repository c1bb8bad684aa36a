"""Hypothesis strategies of the fuzz suite (tests/test_fuzz.py)."""
