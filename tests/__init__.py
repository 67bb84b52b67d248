"""archdsl test suite (a package so `python -m tests.fuzz.mutate` works)."""
