"""The error type of the import stage: it always says which file, row and column."""

from __future__ import annotations


class SourceError(Exception):
    def __init__(
        self,
        file: str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        batch_id: int | None = None,
    ) -> None:
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        if value is not None:
            where += f", value {value!r}"
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.reason = reason
        self.row = row
        self.column = column
        self.value = value
        self.batch_id = batch_id
