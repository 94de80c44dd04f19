"""The one check for text the database cannot store, on plain strings and parsed JSON."""

import json

from resolutionflow.text import (
    may_hold_unstorable_json,
    printable,
    problems_in_json,
    unstorable_text,
)


def test_nul_and_every_lone_surrogate_are_unstorable_and_named():
    assert "NUL" in unstorable_text("a\x00b")
    for char in ("\ud800", "\udbff", "\udc00", "\udfff"):
        assert f"\\u{ord(char):04x}" in unstorable_text(f"x{char}")


def test_ordinary_text_is_storable():
    for text in ("", "Café", "😀 emoji", "tab\tand\nnewline", "\ufffd replacement", "\u2028"):
        assert unstorable_text(text) is None


def test_json_problems_give_the_path_of_each_string_and_key():
    document = {"a": ["ok", "bad\x00", {"k\ud800": 1}], "b": {"c": "\udfff"}}
    problems = problems_in_json(document, "body")
    assert [p.field for p in problems] == ["body.a[1]", "body.a[2].k\\ud800 (a key)", "body.b.c"]


def test_json_walk_survives_hostile_nesting_and_caps_the_list():
    deep: list = ["\x00"]
    for _ in range(100_000):
        deep = [deep]
    assert len(problems_in_json(deep)) == 1
    assert len(problems_in_json(["\x00"] * 1000)) == 20


def test_raw_json_needs_parsing_only_when_an_escape_could_hide_bad_text():
    assert may_hold_unstorable_json(json.dumps({"a": "\x00"}).encode())
    assert may_hold_unstorable_json(json.dumps("\ud800").encode())
    assert not may_hold_unstorable_json(json.dumps({"name": "Café ✓"}).encode())


def test_printable_spells_bad_characters_as_escapes():
    assert printable("a\x00b\ud800") == "a\\u0000b\\ud800"
