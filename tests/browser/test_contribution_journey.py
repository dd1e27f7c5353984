"""Issue 13's journey for item 6, in Chromium: a visiting professional adds a note with a
report about their named pupil, and it shows on the pupil's page with its provenance (who,
role, organisation, when, which form), to them and to the SENCo; the report downloads. A
file that is not a PDF is refused beside its field. Screenshots at 1280 and 375 px go to
/tmp/shots-visitors/ for a person to look at."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_helpers import Site, axe_violations, describe_violations, page_widths
from playwright.sync_api import expect

from empowered.synth.app_contributions import minimal_pdf

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-visitors")
PDF = minimal_pdf(["Educational psychology service: consultation summary", "Made-up text."])


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)  # type: ignore[attr-defined]


def test_a_visitor_adds_a_note_that_shows_with_its_provenance(open_as, site: Site) -> None:
    pupil = site.pupil
    page = open_as("visiting_professional")
    page.goto(f"/pupils/{pupil}")
    page.get_by_role("link", name="Add a note or report").click()
    page.wait_for_url(f"**/pupils/{pupil}/contributions/new")
    _shot(page, "form-1280.png")

    # A file that is not a PDF is refused beside its field, and nothing is saved.
    page.get_by_label("Area").select_option("wellbeing")
    page.get_by_label("Title").fill("Educational psychology consultation")
    page.get_by_label("Date of the visit or assessment").fill(
        (date.today() - timedelta(days=1)).isoformat()
    )
    page.get_by_label("Your note").fill(
        "Observed in class and at lunch. Anxiety rises before unstructured times; advise a "
        "visual timetable checked each morning and a named adult at lunch."
    )
    page.get_by_label("Your report, as a PDF").set_input_files(
        {"name": "notes.docx", "mimeType": "application/pdf", "buffer": b"PK\x03\x04 not a pdf"}
    )
    page.get_by_role("button", name="Save the note").click()
    error = page.locator("#e-report")
    expect(error).to_contain_text("This file is not a PDF")
    assert page.get_by_label("Your report, as a PDF").get_attribute("aria-invalid") == "true"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    _shot(page, "form-error-1280.png")

    # The text typed is kept; the report chosen again, as a PDF this time.
    expect(page.get_by_label("Title")).to_have_value("Educational psychology consultation")
    page.get_by_label("Your report, as a PDF").set_input_files(
        {"name": "consultation.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Save the note").click()
    page.wait_for_url(re.compile(rf".*/pupils/{pupil}\?contributed=1#contributions$"))
    section = page.locator("#contributions")
    expect(section.get_by_role("status")).to_contain_text("Your note was saved")
    entry = section.locator("li", has_text="Educational psychology consultation")
    expect(entry).to_contain_text("a named adult at lunch")
    expect(entry.locator("[data-provenance]")).to_have_text(
        re.compile(
            rf"^Entered by {site.accounts['visiting_professional'].username}, Visiting "
            r"professional, Educational psychology service, on \d+ \w+ \d{4} at \d\d:\d\d, "
            r"through the visiting professional’s note form\.$"
        )
    )
    with page.expect_download() as download:
        entry.get_by_role("link", name=re.compile("Download the report: consultation.pdf")).click()
    assert Path(download.value.path()).read_bytes() == PDF
    section.scroll_into_view_if_needed()
    _shot(page, "pupil-1280.png")

    # At a phone's width: nothing scrolls sideways, on the form or the page.
    narrow = open_as("visiting_professional", width=375, height=800)
    narrow.goto(f"/pupils/{pupil}/contributions/new")
    width, viewport = page_widths(narrow)
    assert width <= viewport
    _shot(narrow, "form-375.png")
    narrow.goto(f"/pupils/{pupil}#contributions")
    width, viewport = page_widths(narrow)
    assert width <= viewport
    narrow.locator("#contributions").screenshot(path=str(SHOTS / "pupil-375.png"))

    # The SENCo reads the same note with the same provenance.
    senco = open_as("senco")
    senco.goto(f"/pupils/{pupil}")
    expect(
        senco.locator("#contributions li", has_text="Educational psychology consultation")
    ).to_contain_text("Educational psychology service")
