"""Template hygiene checks that would otherwise only show up as text on a page."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_no_multi_line_hash_comments():
    """Django's {# #} comments are single-line; a multi-line one renders as page text."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert offenders == []


def test_decorative_icons_are_hidden_from_screen_readers():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for tag in line.split('<i class="bi ')[1:]
        if 'aria-hidden="true"' not in tag.split(">", 1)[0]
    ]
    assert offenders == []
