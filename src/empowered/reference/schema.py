"""Declared column types, keys and allowed values for every packaged reference seed.

The seeds are read as text and converted here rather than sniffed: a type guesser would
read the register code ``N`` as a boolean and choke on ``/`` or ``#``. Declaring the
types in Python (not in a YAML file beside the CSVs) keeps them inside the installed
package, because only ``reference/seeds/*.csv`` is shipped as package data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["VARCHAR", "BOOLEAN", "INTEGER", "DOUBLE", "DATE"]

# Every row of every seed must say where it comes from and when it took effect, so that a
# DfE change is a data edit: close the old row with effective_to, add a new one.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source", "effective_from")

ATTENDANCE_CATEGORIES: frozenset[str] = frozenset(
    {
        "present",
        "approved_activity",
        "authorised_absence",
        "unauthorised_absence",
        "not_possible",
        "administrative",
    }
)


# Where a national figure applies: England, one region (its ONS code, E12...) or one local
# authority (its ONS code, E06/E08/E09/E10...), and to which schools. A figure for all
# schools is never set beside a special school (issue 15: 96% against 6%).
GEOGRAPHY_LEVELS: frozenset[str] = frozenset({"national", "regional", "la"})
SCHOOL_TYPES: frozenset[str] = frozenset(
    {"all", "nursery", "primary", "secondary", "special", "alternative_provision"}
)
# A figure is one measure of one group, for one period, place and type of school.
_FIGURE_KEY = (
    "topic",
    "academic_year",
    "period",
    "measure",
    "group",
    "geography_level",
    "geography_code",
    "school_type",
)
GEOGRAPHY_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("geography_level", "VARCHAR"),
    ("geography_code", "VARCHAR"),
    ("geography_name", "VARCHAR"),
    ("school_type", "VARCHAR"),
)


@dataclass(frozen=True)
class SeedSchema:
    """How one seed file is typed and checked.

    ``columns`` lists the declared columns in table order; all of them must be in the
    header (an empty cell is allowed unless the column is in ``required``). Extra header
    columns are kept as VARCHAR so that a note column can be added without a code change.
    ``key`` names the columns that identify a row: two rows with the same key may not have
    overlapping effective periods.
    """

    columns: tuple[tuple[str, ColumnType], ...]
    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def type_of(self, column: str) -> ColumnType:
        for name, column_type in self.columns:
            if name == column:
                return column_type
        # An undeclared end date is still a date: versioning works the same in every seed.
        return "DATE" if column == "effective_to" else "VARCHAR"


_SOURCE_FROM: tuple[tuple[str, ColumnType], ...] = (
    ("source", "VARCHAR"),
    ("effective_from", "DATE"),
)
_SOURCE_FROM_TO: tuple[tuple[str, ColumnType], ...] = (
    *_SOURCE_FROM,
    ("effective_to", "DATE"),
)

SEED_SCHEMAS: dict[str, SeedSchema] = {
    "sen_provision": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("name", "VARCHAR"),
            ("maps_to", "VARCHAR"),
            ("is_current", "BOOLEAN"),
            *_SOURCE_FROM_TO,
            ("note", "VARCHAR"),
        ),
        key=("code",),
        required=("code", "name", "maps_to", "is_current"),
    ),
    "sen_need": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("name", "VARCHAR"),
            ("broad_area", "VARCHAR"),
            ("sen_support_only", "BOOLEAN"),
            ("sort_order", "INTEGER"),
            *_SOURCE_FROM_TO,
            ("note", "VARCHAR"),
            ("broad_area_name", "VARCHAR"),
        ),
        key=("code",),
        required=("code", "name", "sen_support_only", "sort_order"),
    ),
    "broad_area": SeedSchema(
        columns=(("code", "VARCHAR"), ("name", "VARCHAR"), *_SOURCE_FROM),
        key=("code",),
        required=("code", "name"),
    ),
    "attendance_code": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("description", "VARCHAR"),
            ("category", "VARCHAR"),
            ("counts_as_possible", "BOOLEAN"),
            ("counts_as_present", "BOOLEAN"),
            ("counts_as_authorised", "BOOLEAN"),
            ("counts_as_unauthorised", "BOOLEAN"),
            ("is_retired", "BOOLEAN"),
            ("maps_to_category_note", "VARCHAR"),
            *_SOURCE_FROM_TO,
        ),
        key=("code",),
        required=(
            "code",
            "description",
            "category",
            "counts_as_possible",
            "counts_as_present",
            "counts_as_authorised",
            "counts_as_unauthorised",
            "is_retired",
        ),
        allowed={"category": ATTENDANCE_CATEGORIES},
    ),
    "exclusion_reason": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("description", "VARCHAR"),
            *_SOURCE_FROM_TO,
            ("note", "VARCHAR"),
        ),
        key=("code",),
        required=("code", "description"),
    ),
    "year_group": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("name", "VARCHAR"),
            ("key_stage", "VARCHAR"),
            ("phase", "VARCHAR"),
            ("typical_age_at_31_august", "INTEGER"),
            ("sort_order", "INTEGER"),
            *_SOURCE_FROM,
            ("note", "VARCHAR"),
        ),
        key=("code",),
        required=("code", "name", "key_stage", "phase", "typical_age_at_31_august", "sort_order"),
        allowed={
            "key_stage": frozenset({"EYFS", "KS1", "KS2", "KS3", "KS4", "KS5"}),
            "phase": frozenset({"nursery", "primary", "secondary", "post-16"}),
        },
    ),
    "ethnicity": SeedSchema(
        columns=(
            ("code", "VARCHAR"),
            ("name", "VARCHAR"),
            ("major_group", "VARCHAR"),
            *_SOURCE_FROM,
            ("note", "VARCHAR"),
        ),
        key=("code",),
        required=("code", "name", "major_group"),
    ),
    "activity": SeedSchema(
        columns=(("code", "VARCHAR"), ("label", "VARCHAR"), ("category", "VARCHAR"), *_SOURCE_FROM),
        key=("code",),
        required=("code", "label", "category"),
        allowed={
            "category": frozenset({"lesson", "unstructured", "transition", "routine", "therapy"})
        },
    ),
    "setting": SeedSchema(
        columns=(("code", "VARCHAR"), ("label", "VARCHAR"), ("category", "VARCHAR"), *_SOURCE_FROM),
        key=("code",),
        required=("code", "label", "category"),
        allowed={"category": frozenset({"classroom", "communal", "outdoor", "quiet", "transport"})},
    ),
    "national_figure": SeedSchema(
        columns=(
            ("topic", "VARCHAR"),
            ("academic_year", "VARCHAR"),
            ("period", "VARCHAR"),
            ("measure", "VARCHAR"),
            ("group", "VARCHAR"),
            *GEOGRAPHY_COLUMNS,
            ("value", "DOUBLE"),
            ("unit", "VARCHAR"),
            *_SOURCE_FROM,
            ("note", "VARCHAR"),
        ),
        key=_FIGURE_KEY,
        required=(*_FIGURE_KEY, "geography_name", "value", "unit"),
        allowed={
            "topic": frozenset({"sen", "absence", "suspensions"}),
            "unit": frozenset({"pupils", "percent", "per_100", "count"}),
            "geography_level": GEOGRAPHY_LEVELS,
            "school_type": SCHOOL_TYPES,
        },
    ),
    "eef_cost_band": SeedSchema(
        columns=(
            ("band", "VARCHAR"),
            ("min_cost_per_pupil", "DOUBLE"),
            ("max_cost_per_pupil", "DOUBLE"),
            *_SOURCE_FROM,
            ("note", "VARCHAR"),
        ),
        key=("band",),
        required=("band", "min_cost_per_pupil"),
    ),
    "eef_months": SeedSchema(
        columns=(
            ("min_effect_size", "DOUBLE"),
            ("max_effect_size", "DOUBLE"),
            ("months", "INTEGER"),
            *_SOURCE_FROM,
            ("impact", "VARCHAR"),
            ("note", "VARCHAR"),
        ),
        key=("months",),
        required=("min_effect_size", "max_effect_size", "months"),
    ),
    # England's standard term dates: the calendar a school gets for any academic year it
    # has sent no terms.csv for. A typical local authority's pattern, not any one LA's:
    # term dates differ by LA and academy trust, so a school's own terms always win.
    "standard_term_date": SeedSchema(
        columns=(
            ("academic_year", "VARCHAR"),
            ("term", "VARCHAR"),
            ("half_term", "INTEGER"),
            ("start_date", "DATE"),
            ("end_date", "DATE"),
            *_SOURCE_FROM,
            ("note", "VARCHAR"),
        ),
        key=("academic_year", "half_term"),
        required=("academic_year", "term", "half_term", "start_date", "end_date"),
        allowed={"term": frozenset({"autumn", "spring", "summer"})},
    ),
}


def schema_for(seed: str) -> SeedSchema:
    """The declared schema, or a permissive one for a seed this module does not know.

    An unknown seed still has to carry its provenance; everything else stays text.
    """
    known = SEED_SCHEMAS.get(seed)
    if known is not None:
        return known
    return SeedSchema(columns=_SOURCE_FROM, key=())
