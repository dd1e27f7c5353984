"""Make docs/documents/: each document for the demo's richest pupil (a plan written in the
app, the most reviews and provision) and its school, as PDF
and as a picture of its pages, for a person reviewing the documents to look at.

    PYTHONPATH=src python scripts/document_examples.py --warehouse /tmp/demo/demo.duckdb

The demo is synthetic: every name and figure in the examples is invented. Made as the demo's
SENCo (and the trust admin for the trust's pack), as the web app would make them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb

from empowered.access.documents import DocumentKind
from empowered.access.policy import scope_for
from empowered.access.users import find_user
from empowered.documents.asking import ask_for
from empowered.documents.registry import make_document
from empowered.settings import get_settings, use_warehouse

K = DocumentKind
RICHEST = """
SELECT p.pupil_key FROM core.dim_pupil AS p
LEFT JOIN core.fct_review_meeting AS r USING (pupil_key)
LEFT JOIN core.fct_provision_enrolment AS e USING (pupil_key)
LEFT JOIN core.fct_plan AS pl USING (pupil_key)
WHERE p.school_urn = ?
GROUP BY p.pupil_key
ORDER BY count(pl.strengths) > 0 DESC, count(DISTINCT r.meeting_id) DESC,
         count(DISTINCT e.enrolment_id) DESC, count(DISTINCT pl.plan_id) DESC, p.pupil_key
LIMIT 1
"""


def pictures(pdf: Path, pages: int) -> list[Path]:
    """Each page as a PNG beside the PDF (quantised with pngquant when it is installed)."""
    out = []
    for page in range(1, pages + 1):
        stem = pdf.with_name(f"{pdf.stem}-page-{page}")
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
             str(pdf), str(stem)],
            check=True,
        )  # fmt: skip
        png = stem.with_suffix(".png")
        if shutil.which("pngquant"):
            subprocess.run(["pngquant", "--force", "--ext", ".png", "--quality", "60-90", str(png)])
        out.append(png)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/documents"))
    parser.add_argument("--pages", type=int, default=20, help="pictures of at most this many pages")
    args = parser.parse_args()
    use_warehouse(args.warehouse)
    con = duckdb.connect(str(args.warehouse), read_only=True)
    senco, admin = find_user(con, "senco"), find_user(con, "admin")
    assert senco and admin and senco.school_urn, "the demo's accounts (empowered demo) are needed"
    today = date.today()
    pupil = con.execute(RICHEST, [senco.school_urn]).fetchone()
    assert pupil
    keys = get_settings().keys()
    args.out.mkdir(parents=True, exist_ok=True)
    asks = [
        (K.PARENT, "pdf", senco, {"pupil_key": pupil[0]}),
        (K.PROFILE, "pdf", senco, {"pupil_key": pupil[0]}),
        (K.EHC_EVIDENCE, "pdf", senco, {"pupil_key": pupil[0]}),
        (K.EHC_EVIDENCE, "xlsx", senco, {"pupil_key": pupil[0]}),
        (K.REVIEW_PACK, "pdf", senco, {"school_urn": senco.school_urn}),
        (K.TRUST_REVIEW_PACK, "pdf", admin, {}),
        (K.TRUST_REVIEW_PACK, "xlsx", admin, {}),
    ]
    for kind, fmt, user, target in asks:
        scope = scope_for(con, user, today=today)
        ask = ask_for(con, kind, fmt, scope=scope, made_on=today, keys=keys, **target)
        made = make_document(con, ask)
        path = args.out / f"{kind}.{fmt}"
        path.write_bytes(made.body)
        shown = pictures(path, min(made.pages, args.pages)) if fmt == "pdf" else []
        print(f"{path}: {made.pages} {'pages' if fmt == 'pdf' else 'rows'}; {len(shown)} pictures")


if __name__ == "__main__":
    main()
