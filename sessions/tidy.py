"""Rules that keep a session's ticket text tidy: the ticket number is asked and printed once,
intake labels print without their hints, commands keep their continuation lines."""

from __future__ import annotations

import re
from typing import Any

# "ticket", "change_ticket", "ticket_number", "ticket_no", "ticket_id", "ticketref"…
_TICKET_NAME = re.compile(r"^(?:[a-z]+_)?ticket(?:_?(?:number|no|nr|id|ref))?$", re.IGNORECASE)
# "Ticket number", "Change ticket number", "Ticket # for this month's test", "Ticket ID"
_TICKET_LABEL = re.compile(r"^(?:\w+\s+)?ticket\s*(?:(?:number|no|nr|id|ref)\b|#)", re.I)


def ticket_field(intake_form: list[dict[str, Any]] | None) -> str | None:
    """The name of the intake field that is the ticket number: flagged `role: ticket`, else
    the first one whose name or label says so. It is the session's ticket field."""
    candidates = intake_form if isinstance(intake_form, list) else []
    fields = [
        f
        for f in candidates
        if isinstance(f, dict) and isinstance(f.get("name"), str) and f.get("type") != "select"
    ]
    for field in fields:
        if field.get("role") == "ticket":
            return field["name"]
    for field in fields:
        name, label = str(field.get("name") or ""), str(field.get("label") or "")
        if _TICKET_NAME.match(name) or _TICKET_LABEL.match(label):
            return name
    return None


def ticket_merged(
    intake_form: list[dict[str, Any]] | None, ticket_number: str, variables: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """One ticket number for the session: the session's field wins, the flow's ticket field
    fills it when it is empty, and the flow's [VAR:…] gets the same value."""
    answers = dict(variables or {})
    name = ticket_field(intake_form)
    if name is None:
        return ticket_number, answers
    ticket = (ticket_number or "").strip() or str(answers.get(name) or "").strip()
    answers[name] = ticket
    return ticket, answers


# A trailing "(e.g. …)", "(YYYY-MM-DD)", "(one per line)", "(optional)": help for the person
# filling the form, noise in a ticket. "(hours)" or "(this site)" say what the value means: kept.
_HINT = re.compile(
    r"\s*\((?:[^()]*\b(?:e\.g\.|eg\.|i\.e\.|for example|optional|one per line|"
    r"comma[- ]separated|format)[^()]*|[YMDHhms]{1,4}(?:[-/.: ][YMDHhms]{1,4})+)\)\s*:?\s*$",
    re.IGNORECASE,
)


def label_without_hint(label: str) -> str:
    return _HINT.sub("", label).strip() or label


def command_lines(code: str, *, first: str, rest: str) -> list[str]:
    """A command indented under its step: `first` before its first line, `rest` before each
    continuation line, whose own indentation is kept."""
    lines = [line.rstrip() for line in code.strip("\n").splitlines()] or [""]
    return [first + lines[0], *(rest + line if line else "" for line in lines[1:])]
