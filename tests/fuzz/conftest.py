# The helper modules are imported by tests/test_fuzz.py, not collected (no doctests in them).
collect_ignore_glob = ["*.py"]
