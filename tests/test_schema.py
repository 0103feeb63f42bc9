"""The published edit list schema: valid, in step with the code, and what every written edit list fits.

conftest's autouse fixture checks every edit list the other tests make the tool write; these tests
check the schema itself and the errors a reader gets from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from repair.edits import KINDS, REVIEWER_DECISIONS, Edit, Evidence
from repair.files.editlist import dump_edits
from repair.files.schema import SCHEMA_PATH, SchemaError, edit_list_schema, validate_edit_list, validate_edits
from repair.fix import fix_file

SOURCE = "Assad Assad must go , the secretary said."
EDITS = [
    Edit(0, 6, "Assad ", "", "duplicate", 0.9, (Evidence("detector:duplicate", "repeated 1-gram"),)),
    Edit(
        19,
        19,
        "",
        "",
        "substitution",
        0.3,
        (Evidence("ref:b.txt", "reference reads", span=(3, 9), score=0.5, candidates=(("x", 0.6),)),),
        applied=False,
        alternatives=(("x", 0.6), ("", 0.4)),
    ),
]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(edit_list_schema())
    assert edit_list_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schema_names_the_kinds_and_decisions_the_code_has() -> None:
    defs = edit_list_schema()["$defs"]["edit"]["properties"]
    assert tuple(defs["kind"]["enum"]) == KINDS
    assert tuple(defs["decision"]["enum"]) == ("applied", "held", *REVIEWER_DECISIONS)


def test_the_schema_ships_with_the_package() -> None:
    assert SCHEMA_PATH.parent.name == "data" and SCHEMA_PATH.parent.parent.name == "repair"
    assert "data/*" in Path(__file__).resolve().parent.parent.joinpath("pyproject.toml").read_text()


def test_a_written_edit_list_fits_the_schema() -> None:
    doc = json.loads(dump_edits(SOURCE, EDITS, input_name="a.txt", refs=["b.txt"], model="smol", min_confidence=0.5))
    validate_edit_list(doc)
    assert doc["edits"][1]["alternatives"] == [{"text": "x", "share": 0.6}, {"text": "", "share": 0.4}]


def test_what_repair_fix_writes_fits_the_schema(tmp_path: Path, damaged_text: str, reference_paths: list[Path]) -> None:
    src = tmp_path / "a.txt"
    src.write_text(damaged_text, encoding="utf-8")
    fixed = fix_file(src, reference_paths, lambda: None)
    doc = json.loads(fixed.targets["edit list"].read_text(encoding="utf-8"))
    validate_edit_list(doc)
    assert doc["edits"], "the example has damage the rules and references repair"


def test_the_check_on_written_edit_lists_is_on() -> None:
    """The fixture refuses what the schema does not describe, so the other tests' edit lists are checked."""
    with pytest.raises(SchemaError, match=r"edit 0 does not fit edits.schema.json at \[0\]\.kind"):
        dump_edits("ab", [Edit(0, 1, "a", "A", "no-such-kind", 0.5)], input_name="a.txt")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("input_sha256"), "at the top: 'input_sha256' is a required property"),
        (lambda d: d.update(version=2), "at version: 1 was expected"),
        (lambda d: d["edits"][0].update(start=-1), "at edits[0].start: -1 is less than the minimum of 0"),
        (lambda d: d["edits"][1]["evidence"][0].update(span=[1]), "at edits[1].evidence[0].span: [1] is too short"),
        (lambda d: d["edits"][0].update(confidence="high"), "at edits[0].confidence: 'high' is not of type 'number'"),
        (lambda d: d["edits"][0].update(colour="red"), "at edits[0]: Additional properties are not allowed"),
        (lambda d: d.update(edits={}), "at edits: {} is not of type 'array'"),
    ],
)
def test_a_document_that_does_not_fit_is_refused_with_where_and_why(change: object, where: str) -> None:
    doc = json.loads(dump_edits(SOURCE, EDITS, input_name="a.txt"))
    change(doc)  # type: ignore[operator]
    with pytest.raises(SchemaError) as info:
        validate_edit_list(doc, name="x.edits.json")
    assert str(info.value).startswith(f"x.edits.json does not fit edits.schema.json {where}")


def test_an_error_quoting_a_huge_value_stays_one_short_line() -> None:
    with pytest.raises(SchemaError) as info:
        validate_edits({"a": "x\n" * 10_000})
    assert "\n" not in str(info.value) and len(str(info.value)) < 250


def test_not_an_object_is_refused() -> None:
    for doc in (None, [], "edits", 1):
        with pytest.raises(SchemaError, match="at the top"):
            validate_edit_list(doc)
