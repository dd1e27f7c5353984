"""Choosing how much of a model an incremental build rebuilds, from its inputs' changes.

The choice is made here, once, for every model; the writing is the engine's
(empowered.warehouse.incremental). Whenever a change cannot be followed by keys the model
is rebuilt in full, which is always correct: the full build is the reference.
"""

from __future__ import annotations

from collections.abc import Mapping

from empowered.warehouse.changes import BATCH_COLUMN, WHOLE, Change
from empowered.warehouse.engines import Engine
from empowered.warehouse.incremental import (
    PUPIL_REFS,
    REF_COLUMN,
    WRITTEN,
    PartialWriter,
    Partitions,
)
from empowered.warehouse.models import Model
from empowered.warehouse.view_source import view_source


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 'es' if word.endswith('ch') else 's'}"


def _batched_sources(writer: PartialWriter, model: Model) -> list[str]:
    return sorted(
        t for t in model.sources if t.startswith("raw.") and BATCH_COLUMN in writer.columns(t)
    )


def rebuild(
    writer: PartialWriter,
    engine: Engine,
    model: Model,
    inputs: Mapping[str, Change],
    own: Change | None,
    *,
    followed: bool = True,
) -> tuple[Change | None, str, str | None]:
    """Rebuild what the changes reach. Returns the change made, how it was made, and the
    table of rows written when only some were (None after a full rebuild, or none).

    ``followed``: whether a model reading this one (or its checks) could use an exact
    change (empowered.warehouse.following). When none could (most marts: nothing reads
    them), the change is not worked out: a rewritten table is reported changed whole,
    without comparing its rows before and after (a fifth of a day's attendance rebuild
    was spent on those comparisons)."""
    if model.view:
        if own is not None or not writer.is_view(model.name):
            engine.materialise(model)  # never built, edited, or a table an older version made
            writer.forget(model.name)
            return WHOLE, "full", None
        return _view(writer, model, inputs)
    if own is None and writer.columns(model.name):
        partial = _partial(writer, model, inputs, followed)
        if partial is not None:
            made, how = partial
            return made, how, WRITTEN if how.startswith("incremental") else None
    made, how = _full(writer, engine, model, followed)
    return made, how, None


def _view(
    writer: PartialWriter, model: Model, inputs: Mapping[str, Change]
) -> tuple[Change | None, str, str | None]:
    """A view has no rows to rewrite: it passes on its row source's change in the columns
    it shows unchanged (empowered.warehouse.view_source), and any other change whole. Its
    rows of the changed partitions are gathered for its checks, as a partial rebuild's."""
    source = view_source(model.sql)
    if source is None or any(c.whole for c in inputs.values()):
        return WHOLE, "view: changed whole", None
    if any(t in source.reads and t != source.table for t in inputs):
        return WHOLE, "view: a lookup changed", None
    change = inputs.get(source.table)
    if change is None:
        # Only a table its checks read changed: its rows are as they were.
        return None, "view: unchanged", None
    keys = {c: v for c, v in change.keys.items() if c in source.columns}
    made = Change(keys=keys, appended_only=change.appended_only)
    column = (model.incremental or "").removeprefix("by:")
    if column not in keys or None in keys[column] or len(inputs) > 1:
        return made, "view", None  # its checks look at every row
    writer.view_rows(model, column, keys[column])
    return made, f"view: {_plural(len(keys[column]), column)}", WRITTEN


def _partial(
    writer: PartialWriter, model: Model, inputs: Mapping[str, Change], followed: bool
) -> tuple[Change | None, str] | None:
    if any(c.whole for c in inputs.values()):
        return None
    batched = _batched_sources(writer, model)
    if model.natural_key and len(batched) == 1:
        [source] = batched
        # A lookup that only gained rows for never-seen keys (the pupil references of new
        # batches, new pseudonyms) cannot change what the rows already held found in it.
        if all(c.appended_only for t, c in inputs.items() if t != source):
            batches = inputs[source].values(BATCH_COLUMN) if source in inputs else frozenset()
            if batches is not None:
                if not batches:
                    return None, "unchanged: only new keys in its lookups"
                made = writer.by_batch(model, source, batches)
                return made, f"incremental: {_plural(len(batches), 'batch')}"
        refs = _changed_refs(model, source, inputs)
        if refs is not None:
            # Some pupil references changed (a pupil chosen on the import page): only the
            # batches with a row naming one of them can find another pupil there.
            new = inputs[source].values(BATCH_COLUMN) if source in inputs else None
            naming = set(new or ()) | writer.batches_naming(source, refs)
            if not naming:
                return None, "unchanged: no row names a changed pupil reference"
            made = writer.by_batch(model, source, naming)
            return made, f"incremental: {_plural(len(naming), 'batch')} (pupil references)"
    if model.incremental == "new_keys" and all(c.appended_only for c in inputs.values()):
        new_batches: set[int] = set()
        for table in batched:
            if table in inputs:
                new_batches |= inputs[table].values(BATCH_COLUMN) or set()
        if not new_batches:
            return None, "unchanged: no new batches"
        made = writer.new_keys(model, new_batches)
        return made, f"incremental: new keys from {_plural(len(new_batches), 'batch')}"
    if model.incremental and model.incremental.startswith("by:"):
        column = model.incremental.removeprefix("by:")
        values: set[object] = set()
        for change in inputs.values():
            found = change.values(column)
            if found is None:
                return None
            values |= found
        if None in values:
            return None  # rows without a partition value can only be rebuilt in full
        if not values:
            return None, f"unchanged: no {column} changed"
        since = _since(model, inputs)
        made = writer.by_partition(model, Partitions(column, values, since), exact=followed)
        how = f"incremental: {_plural(len(values), column)}"
        return made, how + (f" from {since[0]} {since[1]}" if since else "")
    return None


def _changed_refs(model: Model, source: str, inputs: Mapping[str, Change]) -> frozenset[str] | None:
    """The pupil references that changed, when they are the one lookup of a pupil-linked
    staging model that changed other than by new keys and the change names them (else
    None: the model is rebuilt another way)."""
    refs = inputs.get(PUPIL_REFS)
    if refs is None or refs.appended_only or model.name == PUPIL_REFS:
        return None
    if any(not c.appended_only for t, c in inputs.items() if t not in (source, PUPIL_REFS)):
        return None
    if source in inputs and inputs[source].values(BATCH_COLUMN) is None:
        return None
    found = refs.values(REF_COLUMN)
    if found is None or None in found:
        return None
    return frozenset(str(v) for v in found)


def _since(model: Model, inputs: Mapping[str, Change]) -> tuple[str, object, int] | None:
    """The first changed value of the model's ``since`` column, when every changed input
    says which values of it changed (else the partitions are rebuilt whole)."""
    if model.since is None:
        return None
    column, lookback = model.since
    found: set[object] = set()
    for change in inputs.values():
        values = change.values(column)
        if values is None or None in values:
            return None
        found |= values
    if not found:
        return None
    first = min(found)  # type: ignore[type-var]
    if model.block is not None and isinstance(first, int):
        # Rows hold their block's last value and read only their block: inputs are read
        # from the start of the first changed value's block.
        lookback = (int(first) - 1) % model.block
    return column, first, lookback


def _full(
    writer: PartialWriter, engine: Engine, model: Model, followed: bool
) -> tuple[Change | None, str]:
    if not followed:
        engine.materialise(model)
        writer.forget(model.name)
        return WHOLE, "full"
    kept = writer.keep_before(model.name)
    before = None if kept else engine.fingerprint(model.name)
    engine.materialise(model)
    if kept:
        return writer.compare_with_before(model.name), "full"
    after = engine.fingerprint(model.name)
    return (WHOLE if before is None or before != after else None), "full"
