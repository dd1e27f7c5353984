"""No pupil's identity can be read from the warehouse file: the `strings` attack.

An attacker with a copy of ``empowered.duckdb`` (a stolen laptop, a backup) reads its bytes.
Every synthetic pupil's forename, surname, UPN and date of birth (ISO, DD/MM/YYYY and
D/M/YYYY) is searched for in the file after a checkpoint has folded the write-ahead log in.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb

import empowered.reference

SEEDS = Path(empowered.reference.__file__).parent / "seeds"

# Ciphertext is base64: a short name can occur inside one by chance, so ciphertext is
# masked out before names are searched for (a clear value is never inside one).
_CIPHERTEXT = re.compile(rb"enc1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*")


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _uk_spellings(iso: str) -> tuple[str, str]:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}", f"{int(day)}/{int(month)}/{year}"


def identity_spellings(trust: Path) -> set[str]:
    """Every pupil's identifiers as an attacker would search for them, less any string
    that also occurs as a value of another kind in the trust's files (a date of birth that
    is also some pupil's entry date, a surname inside a setting's name): finding those
    would prove nothing."""
    wanted: set[str] = set()
    for p in _rows(trust, "pupils.csv"):
        wanted.add(p["upn"])
        wanted.update(n for n in (p["forename"], p["surname"]) if len(n) >= 4)
        wanted.update({p["date_of_birth"], *_uk_spellings(p["date_of_birth"])})
    identity = {"upn", "forename", "surname", "date_of_birth", "mis_id"}
    elsewhere = [
        v
        for path in trust.glob("*.csv")
        for row in _rows(trust, path.name)
        for k, v in row.items()
        if k not in identity and v
    ]
    # Schools' own export formats spell those other dates the UK way.
    elsewhere += [
        spelling
        for v in elsewhere
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v)
        for spelling in _uk_spellings(v)
    ]
    # The reference code lists are in the warehouse too ("White and Black Caribbean",
    # "Transition", "Hall").
    elsewhere += [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.csv")]
    text = "\n".join(elsewhere)
    return {s for s in wanted if s not in text}


def found_in_file(path: Path, spellings: set[str]) -> list[str]:
    con = duckdb.connect(str(path))
    con.execute("CHECKPOINT")
    con.close()
    data = b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + ".wal")) if p.exists()
    )
    masked = _CIPHERTEXT.sub(b" ", data)
    return sorted(s for s in spellings if s.encode("utf-8") in masked)


def test_no_pupil_identity_is_readable_in_the_warehouse_file(
    small_trust: Path, built_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "stolen.duckdb"
    shutil.copy(built_warehouse, copy)
    spellings = identity_spellings(small_trust)
    assert len(spellings) > 1000  # the scan looks for many values: UPNs, names, dates

    # The scan does see text stored in the file: the schools' names are there in clear.
    schools = {r["school_name"] for r in _rows(small_trust, "schools.csv")}
    assert found_in_file(copy, schools) == sorted(schools)

    found = found_in_file(copy, spellings)
    # UPNs, dates and names of six letters or more: none, ever. A four- or five-letter name
    # can turn up by chance inside compressed binary data ("Diya" once sat between bytes
    # 0x94 and "C" in a bit-packed column): a real leak shows nearly every name, so a few
    # short ones are allowed, but not more than one in twenty.
    assert [s for s in found if len(s) >= 6] == []
    short = [s for s in spellings if len(s) < 6]
    assert len(found) <= len(short) // 20, found


def test_no_second_factor_secret_is_readable_in_the_warehouse_file(
    built_warehouse: Path, tmp_path: Path
) -> None:
    """A TOTP secret read from a copy would let its holder produce an account's codes."""
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user, enable_totp, start_totp

    copy = tmp_path / "stolen.duckdb"
    shutil.copy(built_warehouse, copy)
    con = duckdb.connect(str(copy))
    ensure_access_tables(con)
    secrets = []
    for name in ("first.person", "second.person"):
        user = add_user(con, name, "a long enough pass phrase", "senco", school_urn="100001")
        secrets.append(enable_totp(con, user.user_id))
    pending = add_user(
        con, "third.person", "a long enough pass phrase", "senco", school_urn="100001"
    )
    secrets.append(start_totp(con, pending.user_id))  # set up, not yet confirmed
    con.close()
    assert all(len(s) >= 16 for s in secrets)
    assert found_in_file(copy, set(secrets)) == []


def test_no_safeguarding_concern_is_readable_in_the_warehouse_file(
    built_warehouse: Path, tmp_path: Path
) -> None:
    """A concern's words, the people present and a leaver's new school are stored as
    ciphertext through raw, staging and core (empowered.concerns), and quarantined rows do
    not let them out either."""
    from datetime import datetime

    from empowered import concerns
    from empowered.identity import IdentityReader
    from empowered.warehouse.connection import open_warehouse
    from identity_keys import TEST_KEYS

    copy = tmp_path / "stolen.duckdb"
    shutil.copy(built_warehouse, copy)
    con = open_warehouse(copy)
    school, upn = con.execute(
        "SELECT school_urn, upn FROM core.pupil_identity ORDER BY pupil_key LIMIT 1"
    ).fetchone() or ("", "")
    clear_upn = str(IdentityReader(TEST_KEYS).upn(upn))
    now = datetime.now().replace(microsecond=0)
    secrets = {
        "Whispered that the lodger comes into the bathroom without knocking",
        "Dinner supervisor Mrs Quillfeather",
        "Zephyrine Hollowbrook Academy",
        "Told the cook a stranger waits by the allotments",
    }
    good = concerns.check_concern(
        {
            "category": "sexual",
            "concern_text": "Whispered that the lodger comes into the bathroom without knocking",
            "people_present": "Dinner supervisor Mrs Quillfeather",
        },
        now=now,
    )
    # A row staging quarantines (no category) keeps its words encrypted too.
    bad = concerns.Checked(dict(good.values))
    bad.values |= {
        "category": "nonsense",
        "concern_text": "Told the cook a stranger waits by the allotments",
    }
    transfer = concerns.check_cp_file(
        {"received_on": now.date().isoformat(), "new_school": "Zephyrine Hollowbrook Academy"},
        now=now,
        leaving_date=None,
    )
    common = {"school_urn": school, "upn": clear_upn, "staff": "app-user-1", "keys": TEST_KEYS}
    landed = [
        concerns.land_concern(con, good, now=now, **common),  # type: ignore[arg-type]
        concerns.land_concern(con, bad, now=now, **common),  # type: ignore[arg-type]
        concerns.land_cp_file(con, transfer, now=now, **common),  # type: ignore[arg-type]
    ]
    for one in landed:
        assert concerns.build(con, one).ok
    assert con.execute("SELECT count(*) FROM core.fct_concern").fetchone() == (1,)
    assert con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE entity = 'concerns'"
    ).fetchone() == (1,)
    con.close()
    assert found_in_file(copy, secrets) == []
