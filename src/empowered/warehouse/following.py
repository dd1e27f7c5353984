"""Whether a partial build should work out exactly how a model's rows changed.

After rebuilding a model, the build can compare its rows before and after, so that the
models reading it rebuild only the pupils (or days) that changed, or nothing at all. The
comparison costs a copy of the rows before and a hash of every row. It is wasted when no
model reads the table, and when every model that reads it is to be rebuilt in full
anyway, because another table it reads changed in a way it cannot follow by partition:
on a school day every register mart reads the schools' "as of" date, which moved, so how
exactly the register's pupils changed does not matter to them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from empowered.warehouse.changes import Change
from empowered.warehouse.models import Model


class Following:
    def __init__(self, models: Mapping[str, Model]) -> None:
        self.models = models
        self.readers: dict[str, list[Model]] = {}
        for model in models.values():
            for table in model.sources | model.depends_on:
                self.readers.setdefault(table, []).append(model)

    def worth_comparing(
        self, name: str, changed: Mapping[str, Change], settled: Collection[str]
    ) -> bool:
        """Whether some model reading ``name`` could use an exact change. ``settled``: the
        models already rebuilt in this build (their entries in ``changed`` are final)."""
        return any(
            not self._rebuilt_whole_anyway(reader, name, changed, settled)
            for reader in self.readers.get(name, [])
            if reader.name != name
        )

    def _rebuilt_whole_anyway(
        self,
        reader: Model,
        name: str,
        changed: Mapping[str, Change],
        settled: Collection[str],
    ) -> bool:
        if reader.view:
            return False  # a view passes keyed changes on: keep them exact
        for table in reader.sources | reader.depends_on:
            if table == name or table == reader.name or table not in changed:
                continue
            if table in self.models and table not in settled:
                continue  # not rebuilt yet: its change may still be exact
            if self._forces_full(reader, changed[table]):
                return True
        return False

    @staticmethod
    def _forces_full(reader: Model, change: Change) -> bool:
        """Whether ``change`` to one of its inputs has ``reader`` rebuilt in full
        (empowered.warehouse.rebuild): it changed whole, the reader is always rebuilt
        whole, or it does not say which of the reader's partitions changed."""
        if change.whole:
            return True
        incremental = reader.incremental or ""
        if not incremental:
            return not reader.natural_key  # staging models follow batches, not partitions
        if not incremental.startswith("by:"):
            return False
        values = change.values(incremental.removeprefix("by:"))
        return values is None or None in values
