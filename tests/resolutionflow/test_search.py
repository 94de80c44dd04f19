"""The search box's words and the tsquery built from them: user text never becomes syntax."""

import pytest
from django.db import connection

from resolutionflow.search import prefix_tsquery, search_words

HOSTILE = ["'&|!():*\\", "a:* | !b", "<-> & ( ) ' \" \\\\", "' OR 1=1 --", "%_%", "::*::"]


def test_words_are_letters_and_digits_of_any_script():
    assert search_words("Reset the PASSWORD!") == ["reset", "the", "password"]
    assert search_words("ipconfig /flushdns") == ["ipconfig", "flushdns"]
    assert search_words("Get-ADUser foo_bar") == ["get", "aduser", "foo", "bar"]
    assert search_words("café 日本語 Ärger") == ["café", "日本語", "ärger"]
    assert search_words("one two three four five six seven eight nine") == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
    ]


@pytest.mark.parametrize("text", HOSTILE)
def test_operators_never_reach_the_query(text):
    for word in search_words(text):
        assert word.isalnum()
    words = search_words(text)
    if words:
        built = prefix_tsquery(words)
        assert set(built) <= set("".join(words)) | set(" &:*")


def test_prefix_applies_to_the_last_word_only():
    assert prefix_tsquery(["reset", "pass"]) == "reset & pass:*"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="to_tsquery is PostgreSQL's")
@pytest.mark.django_db
@pytest.mark.parametrize("text", [*HOSTILE, "café 日本語", "the and of", "x" * 500])
def test_postgresql_parses_every_built_query(text):
    words = search_words(text)
    if not words:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsquery('english', %s)::text", [prefix_tsquery(words)])
        assert cursor.fetchone() is not None
