"""A server over a lake follows Spark's builds: when the lake commits a newer snapshot,
the models' views are pointed at it (empowered.warehouse.lake_attach) under the write
lock, so no page reads half of one build and half of the next, and the analytics cache
is warmed for the new build as after any rebuild. Log lines give versions and counts.

Each time it looks, it also publishes the warehouse's sources as they are committed
(:func:`catch_up`): an import publishes inside its own transaction, so one rolled back
after publishing (a disk that filled at its commit) left batches in the lake that the
warehouse does not hold; they are taken out again here, within one interval."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI

from empowered.warehouse.lake import Lake
from empowered.warehouse.lake_attach import attach, attached_version, served_lake
from empowered.warehouse.lake_publish import behind, publish
from empowered.web import warming
from empowered.web.warehouse import Warehouse

log = logging.getLogger(__name__)

# How often the lake's log is looked at: a new entry is one directory listing away.
POLL_SECONDS = 30.0


@dataclass
class Following:
    lake: Lake
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def refresh(app: FastAPI, lake: Lake) -> bool:
    """Attach the lake's latest snapshot if it is newer than the one served. True if so."""
    store: Warehouse = app.state.warehouse
    with store.reading() as con:
        if lake.version() <= attached_version(con):
            return False
    with store.writing() as con:
        attached = attach(con, lake)
    log.info("now serving lake snapshot %d (%d views)", attached.version, attached.views)
    warming.after_build(app)
    return True


def catch_up(app: FastAPI, lake: Lake) -> int:
    """Publish what the lake lacks, or holds that the warehouse does not. Looked for
    first with a read (the batches' row counts): publishing digests every row, which held
    the write lock for a second or two every half minute at 12,000 pupils. Published
    under the write lock (no import half-way), moving no table's version. The lake's
    version after."""
    store: Warehouse = app.state.warehouse
    with store.reading() as con:
        if not behind(con, lake):
            return lake.version()
    with store.writing(tables=set()) as con:
        return publish(con, lake).version


def _follow(app: FastAPI, following: Following, interval: float) -> None:
    while not following.stopping.wait(interval):
        try:
            catch_up(app, following.lake)
            refresh(app, following.lake)
        except Exception:  # a half-written lake or a full disk: try again next time
            log.exception("could not attach the lake's latest snapshot")


def start(app: FastAPI, interval: float = POLL_SECONDS) -> None:
    store: Warehouse = app.state.warehouse
    with store.reading() as con:
        lake = served_lake(con)
    if lake is None:
        return
    following = Following(lake)
    following.thread = threading.Thread(
        target=_follow, args=(app, following, interval), name="lake-refresh", daemon=True
    )
    app.state.lake_following = following
    following.thread.start()


def stop(app: FastAPI) -> None:
    following: Following | None = getattr(app.state, "lake_following", None)
    if following is not None and following.thread is not None:
        following.stopping.set()
        following.thread.join(30.0)
