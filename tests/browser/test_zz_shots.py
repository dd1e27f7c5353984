from __future__ import annotations

import csv
from pathlib import Path

from empowered.sources.importer import import_canonical_folder, import_files
from empowered.sources.records import SourceRecord
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS

import sys
sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from test_pupil_match_page import ListReader  # noqa: E402

OUT = Path("/tmp/shots")


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_shots(open_as, site, small_trust: Path, tmp_path: Path) -> None:
    app = site.app
    pupils = [p for p in _rows(small_trust, "pupils.csv") if p["school_urn"] == site.school]
    group = {r["upn"]: r["reg_group"] for r in _rows(small_trust, "characteristics.csv")}
    a = next(p for p in pupils if not p["leaving_date"])
    twin = next(p for p in pupils if p["upn"] != a["upn"] and group[p["upn"]] == group[a["upn"]] and not p["leaving_date"])
    later = tmp_path / "later"
    later.mkdir()
    header = (small_trust / "pupils.csv").open(encoding="utf-8").readline()
    renamed = twin | {"forename": a["forename"], "surname": a["surname"]}
    (later / "pupils.csv").write_text(header + ",".join(renamed.values()) + "\n", "utf-8")
    named = {"school_urn": a["school_urn"], "pupil_name": f"{a['forename']} {a['surname']}", "pupil_group": group[a["upn"]]}
    records = [SourceRecord("observations", named | {"observation_id": f"TW{i}", "observed_on": "03/11/2025", "mood": "3"}, i + 2) for i in range(3)]
    records.append(SourceRecord("observations", {"school_urn": a["school_urn"], "pupil_name": "Nobody Atall", "pupil_group": group[a["upn"]], "observation_id": "TW9", "observed_on": "03/11/2025", "mood": "2"}, 5))
    form = tmp_path / "checkins.csv"
    form.write_text("x")
    with app.state.warehouse.writing() as con:
        import_canonical_folder(con, later, keys=TEST_KEYS)
        result = import_files(con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader(records))
        assert build_duckdb(con, touched={"raw.canonical_pupils", "raw.canonical_observations"}).ok
    batch = result.batch_ids[0]
    for width, tag in ((1280, "wide"), (375, "phone")):
        page = open_as("senco", width=width, height=900)
        page.goto(f"/imports/{batch}")
        page.screenshot(path=str(OUT / f"match-{tag}.png"), full_page=True)
    # odd headings
    odd = tmp_path / "our_list.csv"
    odd.write_text(
        "UPN,Surname,Forename,DOB,Gender,Yr,Tutor,Pupil Premium Indicator,Kids Club,Needs Area\n"
        f"{a['upn']},{a['surname']},{a['forename']},{a['date_of_birth']},{a['sex']},Year 4,4B,Yes,Y,SEMH\n",
        "utf-8",
    )
    for width, tag in ((1280, "wide"), (375, "phone")):
        page = open_as("senco", width=width, height=900)
        page.goto("/imports")
        page.screenshot(path=str(OUT / f"imports-{tag}.png"), full_page=True)
        page.set_input_files("#files", str(odd))
        page.click("form[action='/imports'] button[type=submit]")
        page.wait_for_timeout(6000)
        print(page.url)
        page.screenshot(path=str(OUT / f"mapping-{tag}.png"), full_page=True)
