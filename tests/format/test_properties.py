"""Property tests over generated programs (tests/strategies_text.py): formatting keeps the
IR and is idempotent, and every program checks or fails with diagnostics, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from archdsl.diagnostics import ArchError
from archdsl.format import find_comments, format_text
from archdsl.pipeline import run
from tests.strategies_text import programs, signature

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(programs())
def test_parse_format_parse_gives_the_same_ir(src):
    out = format_text(src, "gen.arch")
    assert format_text(out, "gen.arch") == out
    assert signature(run(text=src, display="gen.arch")) == \
        signature(run(text=out, display="gen.arch"))
    assert [c.text for c in find_comments(out)] == [c.text for c in find_comments(src)]


@SETTINGS
@given(programs())
def test_programs_check_or_fail_with_diagnostics(src):
    import archdsl

    try:
        net = archdsl.parse(src, filename="gen.arch")
    except ArchError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.span is None or 0 <= d.span.start <= d.span.end <= len(src)
        return
    assert net.output_shape
