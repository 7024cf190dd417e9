"""docs/schema.md carries the schema tables generated from vdto.schema, unchanged."""

from pathlib import Path

from vdto.schema import EVENT_COLUMNS, schema_markdown

DOC = Path(__file__).parents[1] / "docs" / "schema.md"


def test_schema_doc_matches_code():
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- schema:begin -->\n", "<!-- schema:end -->"
    block = text[text.index(begin) + len(begin) : text.index(end)]
    assert block == schema_markdown()


def test_every_event_column_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for col in EVENT_COLUMNS:
        assert f"`{col}`" in text
