"""Rows of every canonical file with each column given blank, malformed, out-of-range and
future values in turn, so that nearly every staging rule fires (staging parity script and
the pinned rejections test)."""

from __future__ import annotations

import csv
from pathlib import Path

MUTATIONS = [
    "",
    " ",
    "x",
    "-1",
    "0",
    "6",
    "99999",
    "2099-01-05",
    "31/02/2025",
    "1/2/2025",
    "25:99",
    "9:05",
    "yes",
    "N",
    "am",
    "Q9",
    "3.5",
    "Y",
]


# Columns the app writes that the synthetic files leave out (synth.writer.APP_WRITTEN),
# with valid values, so that their rules are mutated and fire as well.
APP_COLUMNS: dict[str, dict[str, str]] = {
    "actions.csv": {
        "kind": "follow_up",
        "owner": "app-user-2",
        "status": "done",
        "status_by": "app-user-2",
        "status_at": "2025-01-06T10:15:00",
        "raised_by": "app-user-1",
        "ref": "",
    },
}


def mutated_folder(trust: Path, out: Path) -> None:
    """For each file, its first rows with one column changed to each mutation in turn,
    plus the rows repeated (duplicates) and each row once with its school unknown."""
    out.mkdir()
    for path in sorted(trust.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            continue
        rows = [r | APP_COLUMNS.get(path.name, {}) for r in rows]
        columns = list(rows[0])
        made = [dict(rows[0]), dict(rows[0])]
        for n, column in enumerate(columns):
            for m, value in enumerate(MUTATIONS):
                row = dict(rows[(n * len(MUTATIONS) + m) % len(rows)])
                row[column] = value
                made.append(row)
        with (out / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(made)
