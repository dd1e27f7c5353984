"""Settling a pupil match on the import report (issue 12, item 10): two pupils in one
class share a name, a forms export names that name and class, and its rows are
quarantined as matching 2 pupils. The SENCo sees the two pupils told apart (class, year,
date of birth), chooses one, and the rebuild accepts the rows under that pupil. A choice
naming another school's pupil is refused and lands nothing; other roles cannot choose."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, one_value

from empowered.sources.importer import import_canonical_folder, import_files
from empowered.sources.records import SourceRecord
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS
from list_reader import ListReader

AMBIGUOUS = "matches 2 pupils at this school: give the UPN or date of birth"


@dataclass(frozen=True)
class Twins:
    batch: int
    name: str  # the name both pupils now have (synthetic)
    surname: str
    upns: tuple[str, str]
    reg_group: str


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def twins(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    small_trust: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Twins:
    """A classmate renamed to share a pupil's name, then three check-ins naming that name
    and class, built into the app's warehouse."""
    app = app_and_users[0]
    folder = tmp_path_factory.mktemp("twins")
    pupils = [p for p in _rows(small_trust, "pupils.csv") if p["school_urn"] == web_trust.school]
    group = {r["upn"]: r["reg_group"] for r in _rows(small_trust, "characteristics.csv")}
    a = next(p for p in pupils if not p["leaving_date"])
    twin = next(
        p
        for p in pupils
        if p["upn"] != a["upn"] and group[p["upn"]] == group[a["upn"]] and not p["leaving_date"]
    )
    later = folder / "later"
    later.mkdir()
    with (small_trust / "pupils.csv").open(encoding="utf-8") as src:
        header = src.readline()
    renamed = twin | {"forename": a["forename"], "surname": a["surname"]}
    (later / "pupils.csv").write_text(header + ",".join(renamed.values()) + "\n", "utf-8")
    named = {
        "school_urn": a["school_urn"],
        "pupil_name": f"{a['forename']} {a['surname']}",
        "pupil_group": group[a["upn"]],
    }
    records = [
        SourceRecord(
            "observations",
            named | {"observation_id": f"TW{i}", "observed_on": "03/11/2025", "mood": "3"},
            i + 2,
        )
        for i in range(3)
    ]
    form = folder / "checkins.csv"
    form.write_text("stand-in for a forms export")
    with app.state.warehouse.writing() as con:
        import_canonical_folder(con, later, keys=TEST_KEYS)
        result = import_files(
            con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader(records)
        )
        assert build_duckdb(con, touched={"raw.canonical_pupils", "raw.canonical_observations"}).ok
    return Twins(
        result.batch_ids[0],
        f"{a['forename']} {a['surname']}",
        a["surname"],
        (a["upn"], twin["upn"]),
        group[a["upn"]],
    )


def _choices(app: Any) -> int:
    return int(one_value(app, "SELECT count(*) FROM raw.canonical_pupil_match_choices"))


def _form(html: str) -> tuple[str, str, list[str]]:
    """The section's first form: its CSRF token, the way of naming it settles, the pupils."""
    section = html.split('data-section="imports.pupil_match"', 1)[1]
    ref = re.search(r'name="ref" value="([0-9a-f]+)"', section)
    assert ref
    pupils = re.findall(r'name="pupil" value="([^"]+)"', section)
    return csrf_of(html), ref.group(1), pupils


def test_the_senco_sees_the_two_pupils_told_apart(
    clients: dict[str, TestClient], twins: Twins
) -> None:
    page = clients["senco"].get(f"/imports/{twins.batch}")
    assert page.status_code == 200
    html = page.text
    assert AMBIGUOUS in html
    assert 'data-section="imports.pupil_match"' in html
    assert "Rows 2, 3 and 4: the pupil they name matches 2 pupils on your roll." in html
    _, _, pupils = _form(html)
    # Every pupil of the name on the roll (the two in the class, and any elsewhere in the
    # school), and "none of these".
    assert len(pupils) >= 3 and pupils[-1] == "not_ours"
    # Each is listed by name, with what tells them apart: their class and date of birth.
    section = html.split('data-section="imports.pupil_match"', 1)[1].split("</section>", 1)[0]
    assert section.count(f">{twins.name}</label>") == len(pupils) - 1
    assert section.count(f"<td>{twins.reg_group}</td>") == 2
    # Dates as every staff page writes them ("5 January 2015").
    assert len(re.findall(r"<td>\d{1,2} [A-Z][a-z]+ \d{4}</td>", section)) == len(pupils) - 1
    # The way the rows name the pupil travels as a digest, never as its blind indexes.
    assert "|" not in re.search(r'name="ref" value="([^"]+)"', section).group(1)  # type: ignore[union-attr]


def test_a_search_finds_pupils_by_name(clients: dict[str, TestClient], twins: Twins) -> None:
    html = clients["senco"].get(f"/imports/{twins.batch}").text
    _, ref, _ = _form(html)
    found = clients["senco"].get(f"/imports/{twins.batch}", params={"ref": ref, "q": twins.surname})
    assert found.status_code == 200
    assert f'Pupils whose name has "{twins.surname}"' in found.text
    nobody = clients["senco"].get(f"/imports/{twins.batch}", params={"ref": ref, "q": "Zzqx"})
    assert 'No pupil on your roll has "Zzqx" in their name.' in nobody.text


@pytest.mark.parametrize("role", ["dsl", "teacher", "teaching_assistant", "trust_analyst"])
def test_other_roles_cannot_choose(
    app_and_users: tuple[Any, dict[str, str]],
    clients: dict[str, TestClient],
    twins: Twins,
    role: str,
) -> None:
    app = app_and_users[0]
    csrf, ref, pupils = _form(clients["senco"].get(f"/imports/{twins.batch}").text)
    client = clients[role]
    token = csrf_of(client.get("/account").text)
    answer = client.post(
        f"/imports/{twins.batch}/pupils",
        data={"csrf": token, "ref": ref, "pupil": pupils[0]},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert _choices(app) == 0


def test_a_choice_of_another_schools_pupil_is_refused_and_lands_nothing(
    app_and_users: tuple[Any, dict[str, str]],
    clients: dict[str, TestClient],
    web_trust: Trust,
    twins: Twins,
) -> None:
    app = app_and_users[0]
    for role in ("senco", "trust_admin"):
        html = clients[role].get(f"/imports/{twins.batch}").text
        csrf, ref, _ = _form(html)
        answer = clients[role].post(
            f"/imports/{twins.batch}/pupils",
            data={"csrf": csrf, "ref": ref, "pupil": web_trust.other_school_pupil},
            follow_redirects=False,
        )
        assert answer.status_code == 400, role
        assert "Choose one of the pupils listed" in answer.text
    # Without the form's token nothing is accepted either.
    _, ref, pupils = _form(clients["senco"].get(f"/imports/{twins.batch}").text)
    forged = clients["senco"].post(
        f"/imports/{twins.batch}/pupils",
        data={"csrf": "not-the-token", "ref": ref, "pupil": pupils[0]},
        follow_redirects=False,
    )
    assert forged.status_code in (400, 403)
    assert _choices(app) == 0


def test_the_senco_chooses_and_the_rows_are_accepted_under_that_pupil(
    app_and_users: tuple[Any, dict[str, str]],
    clients: dict[str, TestClient],
    twins: Twins,
) -> None:
    app = app_and_users[0]
    senco = clients["senco"]
    csrf, ref, pupils = _form(senco.get(f"/imports/{twins.batch}").text)
    chosen = pupils[1]
    answer = senco.post(
        f"/imports/{twins.batch}/pupils",
        data={"csrf": csrf, "ref": ref, "pupil": chosen},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/imports/{twins.batch}?chosen=pupil"
    page = senco.get(answer.headers["location"]).text
    assert "Your choice is saved and the rows were read again" in page
    assert "3 accepted, 0 quarantined" in page
    assert 'data-section="imports.pupil_match"' not in page  # nothing left to settle
    accepted = one_value(
        app,
        "SELECT list(DISTINCT pupil_key) FROM staging.stg_canonical_observations "
        "WHERE _batch_id = ? AND _reject_reason IS NULL AND _pupil_match_method = 'chosen'",
        [twins.batch],
    )
    assert accepted == [chosen]
    assert _choices(app) == 1
    assert (
        one_value(
            app,
            "SELECT count(*) FROM app.audit_log WHERE event = 'pupil_match_chosen'",
        )
        == 1
    )
    # Nothing identifying is kept in the choice: only keys and blind indexes.
    stored = one_value(app, "SELECT ref_key || pupil_key FROM raw.canonical_pupil_match_choices")
    assert twins.surname not in stored and twins.upns[0] not in stored
