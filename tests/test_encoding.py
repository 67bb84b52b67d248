"""Source encodings: UTF-8 only, a byte-order mark accepted, anything else one coded error
(E0108) that `check` and `fmt` report alike."""

from __future__ import annotations

from tests.conftest import run_cli

BOM = b"\xef\xbb\xbf"
CLEAN = b"network net {\n    input 3x8x8\n    conv(4, 3x3)\n}\n"


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.arch"
    path.write_bytes(BOM + CLEAN)
    assert run_cli("check", str(path)) == (0, "", "")


def test_fmt_drops_the_byte_order_mark_and_check_mode_says_so(tmp_path):
    path = tmp_path / "bom.arch"
    path.write_bytes(BOM + CLEAN)
    code, _, err = run_cli("fmt", "--check", str(path))
    assert code == 1 and "drop its byte-order mark" in err
    assert path.read_bytes() == BOM + CLEAN  # --check changes nothing
    assert run_cli("fmt", str(path))[0] == 0
    assert path.read_bytes() == CLEAN


def test_not_utf8_is_the_same_error_in_check_and_fmt(tmp_path):
    path = tmp_path / "latin1.arch"
    data = CLEAN.replace(b"3x3)", "3x3)  # café".encode("latin-1"))
    path.write_bytes(data)
    code, _, check_err = run_cli("check", str(path))
    assert code == 1 and "error[E0108]" in check_err
    code, _, fmt_err = run_cli("fmt", str(path))
    assert code == 1
    assert fmt_err.startswith(check_err.rstrip("\n"))  # the same diagnostic, then a status line
    assert "left unchanged" in fmt_err
    assert path.read_bytes() == data


def test_an_imported_file_that_is_not_utf8_is_blamed_on_itself(tmp_path):
    (tmp_path / "lib.arch").write_bytes("block b { relu }  # é\n".encode("latin-1"))
    main = tmp_path / "main.arch"
    main.write_text('import "lib.arch"\nnetwork net {\n    input 3x8x8\n    b\n}\n')
    code, _, err = run_cli("check", str(main))
    assert code == 1 and "lib.arch` is not UTF-8 text" in err and "error[E0108]" in err
