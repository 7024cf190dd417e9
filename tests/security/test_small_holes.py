"""Smaller holes (issue: hardening, item 7): infinite counts, UTF-16 files, option names in fix
texts, and the modes of the key folder and the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import assert_one_line_exit_2, run_here

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400"])
def test_an_infinite_count_is_one_line_without_a_warning(tmp_path, value):
    f = tmp_path / "c.csv"
    f.write_text(f"region_code,period,measure,count\n14,2019-01,homicidio_doloso,{value}\n")
    res = run_here("import", "counts", str(f), "--db", str(tmp_path / "s.duckdb"))
    assert_one_line_exit_2(res, f"{f}:2:4", "count")
    assert "Warning" not in res.stderr


def test_a_utf16_file_is_read_when_asked(tmp_path):
    text = (DATA / "agency_sample.csv").read_text(encoding="utf-8")
    f = tmp_path / "agency16.csv"
    f.write_text(text, encoding="utf-16")
    mapping = str(DATA / "agency_mapping.toml")
    refused = run_here("import", "csv", str(f), "--mapping", mapping, "--db", str(tmp_path / "s.duckdb"))
    # the fix names an option that exists
    assert_one_line_exit_2(refused, "--encoding utf-16")
    ok = run_here(
        "import",
        "csv",
        str(f),
        "--mapping",
        mapping,
        "--encoding",
        "utf-16",
        "--db",
        str(tmp_path / "s.duckdb"),
    )
    assert ok.returncode == 0, ok.stderr
    assert "imported" in ok.stdout


def test_a_bad_byte_in_a_mapped_csv_names_the_encoding_option_it_has(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes((DATA / "agency_sample.csv").read_text(encoding="utf-8").encode("latin-1"))
    mapping = str(DATA / "agency_mapping.toml")
    res = run_here("import", "csv", str(f), "--mapping", mapping, "--db", str(tmp_path / "s.duckdb"))
    assert_one_line_exit_2(res, "--encoding")
    ok = run_here(
        "import",
        "csv",
        str(f),
        "--mapping",
        mapping,
        "--encoding",
        "latin-1",
        "--db",
        str(tmp_path / "s.duckdb"),
    )
    assert ok.returncode == 0, ok.stderr


def test_keys_new_makes_a_private_folder(tmp_path):
    res = run_here("keys", "new", "mx", "--dir", str(tmp_path / "keys"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "keys" / "mx.key").stat().st_mode & 0o777 == 0o600
