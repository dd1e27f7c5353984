"""The canonical writer writes what Python's csv writer writes, with or without quoting."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from empowered.synth.writer import COLUMNS, CsvSink


def _csv_module(rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS["strategies"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    "names",
    [
        ["Calm corner", "Movement break", ""],  # plain text: the quick path
        ["Calm, quiet corner", "Break", "x"],  # a comma
        ['The "zone"', "Break", "x"],  # a quote
        ["Line\nbreak", "Carriage\rreturn", "x"],  # line ends
        [1, None, 2.5],  # not text
        ["Zoë's café", "Łukasz", " spaced "],  # non-ASCII and spaces stay as they are
    ],
)
def test_rows_are_written_as_the_csv_module_writes_them(tmp_path: Path, names: list[Any]) -> None:
    columns = {
        "strategy_code": ["a", "b", "c"],
        "strategy_name": names,
        "category": ["regulation", "sensory", "other"],
    }
    with CsvSink(tmp_path) as sink:
        assert sink.write("strategies", columns) == 3
    rows = list(zip(columns["strategy_code"], names, columns["category"], strict=True))
    assert (tmp_path / "strategies.csv").read_bytes() == _csv_module(rows)
