"""Names of a document: runs of capitals, split where a pasted name meets a real one."""

from __future__ import annotations

from repair.text.entities import entity_keys, find_mentions, split_pasted


def keys(text: str) -> list[str]:
    return [m.key for m in split_pasted(find_mentions(text), text)]


def test_a_repeated_full_name_stays_whole_and_its_last_name_counts() -> None:
    text = "Russian President Vladimir Putin spoke. Putin met envoys. Russian President Vladimir Putin left."
    assert keys(text).count("russian president vladimir putin") == 2
    assert "putin" in entity_keys(split_pasted(find_mentions(text), text))


def test_two_names_that_each_stand_alone_split() -> None:
    text = "Assad said so. Syria said no. Assad and Syria met. Syria agreed. No role for Assad in Syria Assad future."
    assert keys(text)[-2:] == ["syria", "assad"]
