from pathlib import Path

from empowered.warehouse.catalog import data_model_markdown
from empowered.warehouse.models import discover_models

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def test_data_model_document_matches_the_sql() -> None:
    expected = data_model_markdown(discover_models())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/data-model.md is out of date: run `empowered docs`"
    )


def test_every_model_is_documented_with_its_grain() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in discover_models().values():
        assert f"| `{model.name}` | {model.grain} |" in text
