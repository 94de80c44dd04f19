"""Text that the database cannot store, found anywhere in a request's values.

PostgreSQL refuses NUL (U+0000) in `text` and the `\\u0000` escape in `jsonb`, and a lone
surrogate (U+D800–U+DFFF) is not Unicode text at all: psycopg cannot encode it and SQLite's
driver refuses it too. Everything else a user can type is storable. This module knows nothing of
Django, so the request middleware, forms and the flow validator can all call it.

JSON is walked with an explicit stack (no recursion on hostile nesting) and the number of problems
reported is capped, so a huge hostile document stays cheap.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS = 20

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In raw JSON, these characters can only arrive as escapes (`\u0000`, `\ud83d`…): a document
# without such an escape needs no parsing to be known clean. Surrogate pairs (emoji written as
# escapes) also match; parsing them then finds nothing wrong.
_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


@dataclass(frozen=True)
class TextProblem:
    """One value that cannot be stored: where it is (`field`) and why (`message`)."""

    field: str
    message: str


def unstorable_text(value: str) -> str | None:
    """Why this text cannot be stored, in words for the person who typed it; None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "Contains a NUL character (\\u0000), which cannot be stored."
    return f"Contains a lone surrogate (\\u{ord(char):04x}), which is not valid Unicode text."


def printable(text: str) -> str:
    """The text with unstorable characters spelled as escapes, safe to show and to store."""
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def may_hold_unstorable_json(raw: bytes) -> bool:
    """Whether parsing this JSON could produce unstorable text (raw NUL bytes are invalid JSON)."""
    return _JSON_ESCAPE.search(raw) is not None


def problems_in_json(value: Any, field: str = "", limit: int = MAX_PROBLEMS) -> list[TextProblem]:
    """Every key and string inside a parsed JSON value that cannot be stored, with its path."""
    problems: list[TextProblem] = []
    for path, text, is_key in _strings(value, field):
        message = unstorable_text(text)
        if message is None:
            continue
        where = f"{path} (a key)" if is_key else path
        problems.append(TextProblem(field=printable(where) or "body", message=message))
        if len(problems) >= limit:
            break
    return problems


def _strings(value: Any, field: str) -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_key) for every string in a JSON value, depth-first, without recursion."""
    stack: list[tuple[str, Any]] = [(field, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path, item, False
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                key_text = str(key)
                child_path = f"{path}.{key_text}" if path else key_text
                yield child_path, key_text, True
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}[{index}]", child) for index, child in reversed(list(enumerate(item)))
            )
