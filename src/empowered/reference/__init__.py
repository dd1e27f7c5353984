"""DfE code lists, national benchmark figures and the date dimension, as versioned seeds.

``load_reference(con)`` creates the ``reference`` schema in a DuckDB warehouse; see
``loader`` for how versioned rows are joined and ``schema`` for the declared types.
"""

from empowered.reference.loader import (
    CALENDAR_TABLE,
    SCHEMA,
    ReferenceDataError,
    Seed,
    load_reference,
    read_seed,
    read_seeds,
)
from empowered.reference.schema import ATTENDANCE_CATEGORIES, SEED_SCHEMAS, SeedSchema

__all__ = [
    "ATTENDANCE_CATEGORIES",
    "CALENDAR_TABLE",
    "SCHEMA",
    "SEED_SCHEMAS",
    "ReferenceDataError",
    "Seed",
    "SeedSchema",
    "load_reference",
    "read_seed",
    "read_seeds",
]
