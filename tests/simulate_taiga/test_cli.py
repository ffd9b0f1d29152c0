"""``dlclab simulate taiga``: the module's register(subparsers), mounted by ``dlclab simulate``."""
from __future__ import annotations

import argparse

import pytest

from dlclab.formats.taiga import read_file
from dlclab.simulate import taiga_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlclab simulate")
    taiga_cli.register(parser.add_subparsers(dest="command"))
    return parser


def test_cli_writes_the_requested_facility(tmp_path, capsys):
    from dlclab.cli import main

    rc = main(["simulate", "taiga", "--facility", "tunka133", "--events", "400", "--clusters", "1-2",
               "--nights", "1", "--seed", "3", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    facilities = sorted(p.name for p in (tmp_path / "raw" / "taiga").iterdir())
    assert facilities == ["tunka133"]
    files = sorted((tmp_path / "raw" / "taiga" / "tunka133").glob("*/t133_c*.001"))
    assert {f.name for f in files} <= {"t133_c01.001", "t133_c02.001"} and files
    n = sum(len(read_file(f).events) for f in files)
    assert "tunka133" in printed and n > 0


def test_cli_help_explains_with_examples(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["taiga", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--facility" in text and "truth.parquet" in text


@pytest.mark.parametrize("bad", [["--clusters", "0-3"], ["--events", "0"], ["--facility", "kascade"]])
def test_cli_refuses_bad_arguments(bad, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["taiga", "--out", str(tmp_path), *bad])
    assert "error" in capsys.readouterr().err
