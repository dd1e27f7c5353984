"""Page data for the staff web app: everything one page shows, assembled from the analytics.

Nothing here imports the web framework and nothing here decides access. Every function
takes an explicit :class:`PupilScope` (worked out by the access layer) and filters by it,
in SQL with bound parameters: a pupil outside the scope is never read, and the pupil page
raises :class:`OutOfScope` rather than return anything about them.

Figures about several pupils go through :func:`count_table`, which applies the one
suppression function unless the scope is a single school's identified staff (a SENCo
sees their own school's pupils one by one anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from empowered.analytics.disclosure import THRESHOLD, DisclosedTable, suppress

__all__ = [
    "OutOfScope",
    "PupilScope",
    "count_table",
    "needs_suppression",
    "scope_filter",
    "scope_params",
]


@dataclass(frozen=True)
class PupilScope:
    """The pupils one user may see, as the access layer decided.

    ``schools`` None means every school; ``pupils`` None means every pupil in those
    schools; ``identified`` says whether names, UPNs and dates of birth may be shown (a
    trust analyst works on pseudonymous keys and suppressed counts only).
    """

    schools: frozenset[str] | None
    pupils: frozenset[str] | None
    identified: bool
    # What the policy lets this user see (``access.policy.visible_sections`` and
    # ``visible_areas``; ``must_suppress``). None means everything / the older rule of
    # :func:`needs_suppression`: for code that builds a scope by hand (scripts, tests);
    # the web app always fills them in from the policy.
    sections: frozenset[str] | None = None
    areas: frozenset[str] | None = None
    suppress: bool | None = None

    def shows(self, section: str) -> bool:
        """Whether the policy lets this section be shown (and so fetched at all)."""
        return self.sections is None or section in self.sections

    def shows_area(self, area: str | None) -> bool:
        """Whether pupil-level entries of this area (a timeline kind, an early-sign
        measure) may be shown."""
        return self.areas is None or (area is not None and area in self.areas)

    @classmethod
    def school(cls, school_urn: str, *, identified: bool = True) -> PupilScope:
        return cls(frozenset({school_urn}), None, identified)

    @classmethod
    def trust_analyst(cls, schools: Iterable[str] | None = None) -> PupilScope:
        return cls(None if schools is None else frozenset(schools), None, False)

    def admits_school(self, school_urn: str) -> bool:
        return self.schools is None or school_urn in self.schools

    def admits(self, pupil_key: str, school_urn: str) -> bool:
        return self.admits_school(school_urn) and (self.pupils is None or pupil_key in self.pupils)

    @property
    def single_school(self) -> str | None:
        if self.schools is not None and len(self.schools) == 1:
            return next(iter(self.schools))
        return None


class OutOfScope(LookupError):
    """Raised when a page asks for a pupil the user may not see (or who does not exist:
    the two are not told apart, so the error reveals nothing)."""

    def __init__(self, pupil_key: str) -> None:
        super().__init__(pupil_key)
        self.pupil_key = pupil_key

    def __str__(self) -> str:
        return "this pupil is not in your scope"


def scope_params(scope: PupilScope) -> dict[str, Any]:
    """The bound parameters every scoped query in ``views/queries`` takes.

    Lists are bound as one parameter each (``list_contains($scope_pupils, pupil_key)``), so
    a key is never part of the SQL text whatever characters it holds.
    """
    return {
        "scope_schools": None if scope.schools is None else sorted(scope.schools),
        "scope_pupils": None if scope.pupils is None else sorted(scope.pupils),
    }


_SCOPE_SQL = (
    "($scope_schools is null or list_contains($scope_schools, {school}))"
    " and ($scope_pupils is null or list_contains($scope_pupils, {pupil}))"
)


def scope_filter(
    scope: PupilScope, *, pupil_column: str = "pupil_key", school_column: str = "school_urn"
) -> tuple[str, dict[str, Any]]:
    """A SQL condition restricting rows to the scope, and its parameters.

    The column names come from code, never from a user; they are checked to be plain
    (optionally qualified) identifiers before they go into the text. The named queries in
    ``views/queries`` carry the same condition written out.
    """
    for column in (pupil_column, school_column):
        if not all(part.isidentifier() for part in column.split(".")):
            raise ValueError(f"not a column name: {column!r}")
    return _SCOPE_SQL.format(school=school_column, pupil=pupil_column), scope_params(scope)


def needs_suppression(scope: PupilScope) -> bool:
    """Whether counts over several pupils must be suppressed for this scope.

    Only a single school's identified staff see counts as they are: they can open each
    pupil anyway. Everyone else (a trust lead across schools, an analyst) sees counts of
    1-4 hidden. When the policy has decided (``scope.suppress``), its answer stands.
    """
    if scope.suppress is not None:
        return scope.suppress
    return not (scope.identified and scope.single_school is not None)


def count_table(
    scope: PupilScope,
    counts: ArrayLike,
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str] = ("pupils",),
    unit: str = "pupils",
) -> DisclosedTable:
    """A table of pupil counts, through the one suppression function.

    For a scope that does not need suppression the threshold is 1, so nothing is hidden,
    but pages still get one kind of table to render.
    """
    return suppress(
        counts,
        row_labels=row_labels,
        column_labels=column_labels,
        threshold=THRESHOLD if needs_suppression(scope) else 1,
        unit=unit,
    )


def count_series(
    scope: PupilScope, counts: Mapping[str, int], *, column_label: str = "pupils"
) -> DisclosedTable:
    """A one-column breakdown ("pupils by need") through :func:`count_table`."""
    labels = tuple(counts) or ("none",)
    values = [[int(v)] for v in counts.values()] or [[0]]
    return count_table(scope, values, row_labels=labels, column_labels=(column_label,))
