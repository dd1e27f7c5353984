"""The register with a region's DfE file loaded, in a real browser (issue 15, item 5): the
region column and the line naming its source stay axe-clean, and the page does not scroll
sideways at 320 px (a source line naming a long file name once pushed it to 387 px)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from browser_helpers import (
    Account,
    axe_violations,
    describe_violations,
    page_widths,
    serving,
    sign_in_through_form,
    too_wide,
)
from playwright.sync_api import Browser

FILES = Path(__file__).parents[1] / "reference" / "dfe_files"


@pytest.fixture(scope="module")
def loaded_site(
    chromium: str, built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Account]]:
    from empowered.demo import create_demo_accounts
    from empowered.reference.loaded_figures import load_national_figures
    from empowered.web.app import create_app

    folder = tmp_path_factory.mktemp("areas")
    path = folder / "areas.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    try:
        senco = next(a for a in create_demo_accounts(con) if a.role == "senco")
        la = con.execute("select min(la_code) from core.dim_school").fetchone()
        assert la and la[0]
        # A long file name, as a user's download may have: it must wrap, not widen the page.
        sen = folder / "special-educational-needs-in-england_sen_phase_type_2024-25.csv"
        sen.write_text((FILES / "sen_phase_type.csv").read_text().replace(",308,", f",{la[0]},"))
        load_national_figures(con, [sen], keep={"regional": None, "la": None})
    finally:
        con.close()
    app = create_app(path)
    with serving(app) as base_url:
        yield base_url, Account(senco.username, senco.password)


def test_the_register_with_a_region_loaded_is_axe_clean_and_fits_320_px(
    browser: Browser, loaded_site: tuple[str, Account]
) -> None:
    base_url, senco = loaded_site
    signing_in = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    sign_in_through_form(signing_in.new_page(), senco)
    state = signing_in.storage_state()
    signing_in.close()
    for width in (1280, 320):
        context = browser.new_context(
            base_url=base_url, storage_state=state, viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        page.goto("/register")
        assert page.get_by_role("columnheader", name="London (region)").count() == 1
        assert page.locator("ul.sources li").first.is_visible()
        violations = axe_violations(page)
        assert not violations, describe_violations(violations)
        scroll, view = page_widths(page)
        assert scroll <= view, f"scrolls sideways at {width} px: {too_wide(page)}"
        context.close()
