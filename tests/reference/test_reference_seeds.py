"""The packaged seeds load, have the right types, and say what the DfE documents say.

The expectations below were written from shared/reference/dfe-codes.md and
national-figures.md, not copied from the seed files, so a wrong edit to a seed fails here.
"""

from __future__ import annotations

import csv
import time
from importlib import resources

import duckdb
import pytest

from empowered.reference import SEED_SCHEMAS, load_reference

SEEDS = resources.files("empowered.reference").joinpath("seeds")

# Register codes in force from 19 August 2024 and what they count as.
CURRENT_ATTENDANCE = {
    "/": "present",
    "\\": "present",
    "L": "present",
    "K": "approved_activity",
    "V": "approved_activity",
    "P": "approved_activity",
    "W": "approved_activity",
    "B": "approved_activity",
    "C": "authorised_absence",
    "C1": "authorised_absence",
    "C2": "authorised_absence",
    "E": "authorised_absence",
    "I": "authorised_absence",
    "J1": "authorised_absence",
    "M": "authorised_absence",
    "R": "authorised_absence",
    "S": "authorised_absence",
    "T": "authorised_absence",
    "G": "unauthorised_absence",
    "N": "unauthorised_absence",
    "O": "unauthorised_absence",
    "U": "unauthorised_absence",
    "D": "not_possible",
    "X": "not_possible",
    "Q": "not_possible",
    "Y1": "not_possible",
    "Y2": "not_possible",
    "Y3": "not_possible",
    "Y4": "not_possible",
    "Y5": "not_possible",
    "Y6": "not_possible",
    "Y7": "not_possible",
    "Z": "administrative",
    "#": "administrative",
}

# Retired codes: the category they had before retirement, and their last day.
RETIRED_ATTENDANCE = {
    "H": ("authorised_absence", "2024-08-18"),
    "J": ("approved_activity", "2024-08-18"),
    "Y": ("not_possible", "2024-08-18"),
    # F went in September 2013, when the regulations stopped term-time holiday leave.
    "F": ("authorised_absence", "2013-08-31"),
}

NEEDS = {
    "SLCN": "CI",
    "ASD": "CI",
    "SPLD": "CL",
    "MLD": "CL",
    "SLD": "CL",
    "PMLD": "CL",
    "SEMH": "SEMH",
    "HI": "SP",
    "VI": "SP",
    "MSI": "SP",
    "PD": "SP",
    "OTH": None,
    "NSA": None,
    "DS": "CL",
}

EXCLUSION_REASONS = {
    "PP", "PA", "VP", "VA", "OW", "BU", "RA", "LG",
    "DS", "SM", "DA", "DM", "TH", "DB", "MT", "PH",
}  # fmt: skip

ACTIVITIES = {
    "maths", "english", "science", "pe", "art", "music", "phonics", "reading", "topic",
    "break", "lunch", "transition", "assembly", "arrival", "home_time", "therapy",
    "free_choice",
}  # fmt: skip
SETTINGS = {
    "classroom", "hall", "playground", "dining_hall", "corridor", "sensory_room", "library",
    "outdoor_area", "small_group_room", "minibus",
}  # fmt: skip


def csv_row_count(name: str) -> int:
    text = SEEDS.joinpath(f"{name}.csv").read_text(encoding="utf-8-sig")
    return sum(1 for _ in csv.DictReader(text.splitlines()))


def seed_names() -> set[str]:
    return {e.name.removesuffix(".csv") for e in SEEDS.iterdir() if e.name.endswith(".csv")}


def test_every_declared_seed_is_packaged() -> None:
    assert seed_names() == set(SEED_SCHEMAS)


def test_every_seed_loads_with_its_row_count() -> None:
    con = duckdb.connect()
    counts = load_reference(con)
    assert set(counts) == seed_names() | {"calendar_date"}
    for name in seed_names():
        expected = csv_row_count(name)
        if name == "eef_months":
            # The loader mirrors every positive band into a negative one.
            expected = 2 * expected - 1
        assert counts[name] == expected, name
        actual = con.execute(f'select count(*) from reference."{name}"').fetchone()
        assert actual == (expected,)


def test_load_is_idempotent_and_fast() -> None:
    con = duckdb.connect()
    started = time.perf_counter()
    first = load_reference(con)
    elapsed = time.perf_counter() - started
    assert load_reference(con) == first
    assert elapsed < 1.0


def test_load_inside_the_callers_transaction() -> None:
    """The caller's transaction decides: rolling it back removes the reference tables."""
    con = duckdb.connect()
    con.execute("begin transaction")
    counts = load_reference(con)
    assert counts["calendar_date"] == 7305
    con.execute("rollback")
    tables = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'reference'"
    ).fetchone()
    assert tables == (0,)


@pytest.mark.parametrize("name", sorted(SEED_SCHEMAS))
def test_every_row_has_provenance(con: duckdb.DuckDBPyConnection, name: str) -> None:
    missing = con.execute(
        f"""select count(*) from reference."{name}"
            where source is null or trim(source) = '' or effective_from is null"""
    ).fetchone()
    assert missing == (0,)


@pytest.mark.parametrize("name", sorted(SEED_SCHEMAS))
def test_declared_types_are_used(con: duckdb.DuckDBPyConnection, name: str) -> None:
    actual = dict(
        con.execute(
            """select column_name, data_type from information_schema.columns
               where table_schema = 'reference' and table_name = ?""",
            [name],
        ).fetchall()
    )
    for column, declared in SEED_SCHEMAS[name].columns:
        assert actual[column] == declared, (name, column)


@pytest.mark.parametrize("name", sorted(n for n, s in SEED_SCHEMAS.items() if "code" in s.key))
def test_no_code_has_two_rows_in_force_on_one_day(
    con: duckdb.DuckDBPyConnection, name: str
) -> None:
    end = "effective_to" if "effective_to" in SEED_SCHEMAS[name].column_names else "null"
    clashes = con.execute(
        f"""
        with r as (
            select code, effective_from as f, coalesce({end}, date '9999-12-31') as t,
                   row_number() over () as n
            from reference."{name}")
        select count(*) from r as a join r as b
          on a.code = b.code and a.n < b.n and a.f <= b.t and b.f <= a.t
        """
    ).fetchone()
    assert clashes == (0,)


def test_current_attendance_codes_and_categories(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """select code, category from reference.attendance_code
           where effective_to is null"""
    ).fetchall()
    assert dict(rows) == CURRENT_ATTENDANCE
    assert len(rows) == len(CURRENT_ATTENDANCE)
    starts = con.execute(
        "select distinct effective_from from reference.attendance_code where effective_to is null"
    ).fetchall()
    assert [str(s) for (s,) in starts] == ["2024-08-19"]


@pytest.mark.parametrize(
    ("code", "possible", "present", "authorised", "unauthorised"),
    [
        ("/", True, True, False, False),
        ("L", True, True, False, False),
        ("K", True, True, False, False),
        ("C2", True, False, True, False),
        ("I", True, False, True, False),
        ("U", True, False, False, True),
        ("N", True, False, False, True),
        ("Y3", False, False, False, False),
        ("D", False, False, False, False),
        ("#", False, False, False, False),
        ("Z", False, False, False, False),
    ],
)
def test_attendance_flags(
    con: duckdb.DuckDBPyConnection,
    code: str,
    possible: bool,
    present: bool,
    authorised: bool,
    unauthorised: bool,
) -> None:
    row = con.execute(
        """select counts_as_possible, counts_as_present, counts_as_authorised,
                  counts_as_unauthorised, is_retired
           from reference.attendance_code where code = ? and effective_to is null""",
        [code],
    ).fetchone()
    assert row == (possible, present, authorised, unauthorised, False)


def test_retired_attendance_codes(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """select code, category, cast(effective_to as varchar), counts_as_possible
           from reference.attendance_code where is_retired"""
    ).fetchall()
    assert {code: (cat, to) for code, cat, to, _ in rows} == RETIRED_ATTENDANCE
    for code, _, _, possible in rows:
        # Y never counted as a possible session; the absences did.
        assert possible == (code != "Y")


def test_codes_that_changed_meaning_keep_their_old_version(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def on(code: str, day: str) -> tuple[str, str]:
        found = con.execute(
            """select description, category from reference.attendance_code
               where code = ? and cast(? as date) between effective_from
                     and coalesce(effective_to, date '9999-12-31')""",
            [code, day],
        ).fetchall()
        assert len(found) == 1, (code, day)
        return found[0]

    assert "off site" in on("B", "2023-10-02")[0]
    assert "approved educational activity" in on("B", "2024-09-02")[0]
    assert on("B", "2023-10-02")[1] == on("B", "2024-09-02")[1] == "approved_activity"
    assert on("J", "2023-10-02")[1] == "approved_activity"
    assert on("J1", "2024-09-02")[1] == "authorised_absence"
    assert on("H", "2019-06-03")[1] == "authorised_absence"


def test_register_code_n_is_text_not_a_boolean(con: duckdb.DuckDBPyConnection) -> None:
    codes = {c for (c,) in con.execute("select code from reference.attendance_code").fetchall()}
    assert {"N", "/", "\\", "#"} <= codes


def test_sen_provision_maps_to_current_codes(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("select code, maps_to, is_current from reference.sen_provision").fetchall()
    assert {code: (to, cur) for code, to, cur in rows} == {
        "E": ("E", True),
        "K": ("K", True),
        "N": ("N", True),
        "S": ("E", False),
        "A": ("K", False),
        "P": ("K", False),
    }
    retired = con.execute(
        "select count(*) from reference.sen_provision where not is_current and effective_to is null"
    ).fetchone()
    assert retired == (0,)


def test_sen_needs_and_broad_areas(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select code, broad_area, sen_support_only, broad_area_name from reference.sen_need"
    ).fetchall()
    assert {code: area for code, area, _, _ in rows} == NEEDS
    assert {code for code, _, only, _ in rows if only} == {"NSA"}
    names = dict(con.execute("select code, name from reference.broad_area").fetchall())
    assert names == {
        "CI": "Communication and interaction",
        "CL": "Cognition and learning",
        "SEMH": "Social, emotional and mental health",
        "SP": "Sensory and/or physical",
    }
    for code, area, _, area_name in rows:
        assert area_name == (names[area] if area else None), code
    ds = con.execute(
        "select cast(effective_from as varchar), note from reference.sen_need where code = 'DS'"
    ).fetchone()
    assert ds is not None and ds[0] == "2025-01-16" and "check" in ds[1]


def test_exclusion_reasons(con: duckdb.DuckDBPyConnection) -> None:
    current = {
        c
        for (c,) in con.execute(
            "select code from reference.exclusion_reason where effective_to is null"
        ).fetchall()
    }
    assert current == EXCLUSION_REASONS


def test_year_groups(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """select code, key_stage, phase, typical_age_at_31_august
           from reference.year_group order by sort_order"""
    ).fetchall()
    assert [r[0] for r in rows] == ["N1", "N2", "R", *[str(y) for y in range(1, 15)]]
    by_code = {r[0]: r[1:] for r in rows}
    assert by_code["R"] == ("EYFS", "primary", 4)
    assert by_code["1"] == ("KS1", "primary", 5)
    assert by_code["6"] == ("KS2", "primary", 10)
    assert by_code["7"] == ("KS3", "secondary", 11)
    assert by_code["11"] == ("KS4", "secondary", 15)
    assert by_code["12"] == ("KS5", "post-16", 16)


def test_ethnicity_main_codes(con: duckdb.DuckDBPyConnection) -> None:
    codes = {c for (c,) in con.execute("select code from reference.ethnicity").fetchall()}
    assert codes == {
        "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
        "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
    }  # fmt: skip


def test_activities_and_settings_cover_the_canonical_format(
    con: duckdb.DuckDBPyConnection,
) -> None:
    activities = {c for (c,) in con.execute("select code from reference.activity").fetchall()}
    settings = {c for (c,) in con.execute("select code from reference.setting").fetchall()}
    assert activities == ACTIVITIES
    assert settings == SETTINGS


def figure(
    con: duckdb.DuckDBPyConnection, year: str, measure: str, group: str = "all"
) -> tuple[float, str, str | None]:
    rows = con.execute(
        """select value, unit, note from reference.national_figure
           where academic_year = ? and measure = ? and "group" = ?""",
        [year, measure, group],
    ).fetchall()
    assert len(rows) == 1, (year, measure, group)
    return rows[0]


def test_national_sen_figures(con: duckdb.DuckDBPyConnection) -> None:
    assert figure(con, "2024/25", "pupils_ehc_plan")[:2] == (482640, "pupils")
    assert figure(con, "2024/25", "pct_ehc_plan")[:2] == (5.3, "percent")
    assert figure(con, "2024/25", "pupils_sen_support")[0] == 1284284
    assert figure(con, "2024/25", "pct_sen_support")[0] == 14.2
    assert figure(con, "2025/26", "pupils_ehc_plan")[0] == 538547
    assert figure(con, "2025/26", "pct_ehc_plan")[0] == 6.0
    approx = figure(con, "2025/26", "pupils_sen_support")
    assert approx[0] == 1_320_000 and approx[2] is not None and "pprox" in approx[2]
    assert figure(con, "2024/25", "pct_sen_primary", "primary")[0] == 18.2
    assert figure(con, "2024/25", "pct_fsm", "ehc_plan")[0] == 43.8
    assert figure(con, "2024/25", "ehcp_primary_need_share", "ASD")[0] == 33.6
    assert figure(con, "2024/25", "sen_support_primary_need_share", "SLCN")[0] == 25.7


def test_sen2_need_shares(con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        con.execute(
            """select "group", value from reference.national_figure
               where measure = 'ehcp_0_25_primary_need_share' and academic_year = '2024/25'"""
        ).fetchall()
    )
    assert rows["ASD"] == 31.5 and rows["MSI"] == 0.3 and rows["unknown"] == 0.8
    assert set(rows) - {"unknown"} <= set(NEEDS)
    assert sum(rows.values()) == pytest.approx(100, abs=0.5)
    assert figure(con, "2024/25", "ehcp_0_25_total")[0] == 638745


def test_absence_and_suspension_figures(con: duckdb.DuckDBPyConnection) -> None:
    assert figure(con, "2024/25", "overall_absence_rate", "ehc_plan")[0] == 13.1
    assert figure(con, "2023/24", "persistent_absence_rate", "no_sen")[0] == 18.2
    assert figure(con, "2023/24", "suspensions")[0] == 954952
    assert figure(con, "2023/24", "suspensions_per_100")[:2] == (11.31, "per_100")
    assert figure(con, "2023/24", "permanent_exclusions", "ehc_plan")[0] == 1044


def test_superseded_figure_is_not_presented_as_current(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute(
        """select count(*) from reference.national_figure
           where value in (14.9, 1318300) and coalesce(note, '') not ilike '%superseded%'"""
    ).fetchone()
    assert found == (0,)


def test_every_national_figure_has_a_year(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        """select count(*) from reference.national_figure
           where not regexp_full_match(academic_year, '\\d{4}/\\d{2}')"""
    ).fetchone()
    assert bad == (0,)


def test_eef_bands_and_months(con: duckdb.DuckDBPyConnection) -> None:
    def band(cost: float) -> str:
        found = con.execute(
            """select band from reference.eef_cost_band
               where ? >= min_cost_per_pupil
                 and (max_cost_per_pupil is null or ? < max_cost_per_pupil)""",
            [cost, cost],
        ).fetchall()
        assert len(found) == 1, cost
        return str(found[0][0])

    assert band(50) == "very low"
    assert band(150) == "low"
    assert band(700) == "moderate"
    assert band(1000) == "high"
    assert band(5000) == "very high"

    def months(effect: float) -> int:
        found = con.execute(
            """select months from reference.eef_months
               where round(?, 2) between min_effect_size and max_effect_size""",
            [effect],
        ).fetchall()
        assert len(found) == 1, effect
        return int(found[0][0])

    assert months(0.0) == 0
    assert months(0.05) == 1
    assert months(0.5) == 6
    assert months(1.0) == 12
    assert months(-0.5) == -6
    assert months(-0.2) == -3
