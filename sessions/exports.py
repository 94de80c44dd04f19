"""A session as text for the ticket: text, markdown, html and psa.

One `Report` is built from the session (variables filled, custom steps marked, cut off after
step N when asked) and each format only lays it out, so all four always say the same thing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from flows import nodes
from sessions import runtime
from sessions.models import BUILTIN_TARGET_VARIABLE, FlowSession

FORMATS = {
    "psa": ("text/plain", "txt"),
    "text": ("text/plain", "txt"),
    "markdown": ("text/markdown", "md"),
    "html": ("text/html", "html"),
}


@dataclass
class Entry:
    number: int | None
    title: str
    kind: str  # decision | action | solution | step | custom | section
    detail: str = ""  # the choice made, or Done / Not done
    note: str = ""
    at: datetime | None = None
    commands: list[str] = field(default_factory=list)

    @property
    def is_custom(self) -> bool:
        return self.kind == "custom"


@dataclass
class Report:
    flow: str
    ticket: str
    client: str
    target: str
    engineer: str
    started: datetime | None
    completed: datetime | None
    duration: str
    variables: list[tuple[str, str]]
    entries: list[Entry]
    status: str
    outcome: str
    outcome_notes: str
    next_steps: str
    timestamps: bool


def parse_at(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def troubleshooting_entries(session: FlowSession) -> list[Entry]:
    entries = []
    for number, item in enumerate(runtime.breadcrumb(session), start=1):
        kind = item.node.get("type", "decision")
        detail = "Done" if kind == "action" else item.choice
        entries.append(Entry(number, item.heading, kind, detail, item.note, parse_at(item.at)))
    node = runtime.current_node(session)
    if not node:
        return entries
    note = runtime.pending_note(session, node["id"])
    title = session.fill(nodes.heading(node))
    if node.get("type") == "solution":
        entries.append(Entry(len(entries) + 1, title, "solution", "Reached", note))
    elif note:
        # Where the engineer stopped, with what they wrote there: the ticket should say so.
        entries.append(Entry(len(entries) + 1, title, node.get("type", ""), "Not answered", note))
    return entries


def checklist_entries(session: FlowSession) -> list[Entry]:
    entries = []
    for row in runtime.checklist(session):
        if row.kind == "section_header":
            entries.append(Entry(None, row.title, "section"))
            continue
        entries.append(
            Entry(
                number=row.number,
                title=row.title,
                kind="custom" if row.is_custom else "step",
                detail="Done" if row.done else "Not done",
                note=row.note,
                at=parse_at(row.at),
                commands=[c["code"] for c in row.commands] if row.is_custom else [],
            )
        )
    return entries


def cut(entries: list[Entry], cut_off: int | None) -> list[Entry]:
    """Keep steps 1..N (and the section headers before them)."""
    if not cut_off:
        return entries
    kept = [e for e in entries if e.number is None or e.number <= cut_off]
    while kept and kept[-1].kind == "section":
        kept.pop()
    return kept


def build_report(session: FlowSession, *, timestamps: bool = True, cut_off: int | None = None):
    entries = (
        troubleshooting_entries(session)
        if session.is_troubleshooting
        else checklist_entries(session)
    )
    labels = {f.get("name"): f.get("label") or f.get("name") for f in session.intake_form_snapshot}
    return Report(
        flow=session.tree_name,
        ticket=session.ticket_number,
        client=session.client_name,
        target=session.target_label,
        engineer=session.user.display_name if session.user else "",
        started=session.started_at,
        completed=session.completed_at,
        duration=session.duration_text,
        # The target already heads the report; the built-in [VAR:target] would repeat it.
        variables=[
            (labels.get(k, k), str(v))
            for k, v in session.variables.items()
            if v and not (k == BUILTIN_TARGET_VARIABLE and k not in labels)
        ],
        entries=cut(entries, cut_off),
        status=session.get_status_display(),
        outcome=session.get_outcome_display() if session.outcome else "",
        outcome_notes=session.outcome_notes,
        next_steps=session.next_steps,
        timestamps=timestamps,
    )


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def header_pairs(report: Report) -> list[tuple[str, str]]:
    pairs = [
        ("Ticket", report.ticket),
        ("Client", report.client),
        ("Target", report.target),
        ("Engineer", report.engineer),
    ]
    if report.timestamps:
        pairs += [("Started", when(report.started)), ("Completed", when(report.completed))]
    pairs += [("Duration", report.duration), ("Status", report.status)]
    return [(k, v) for k, v in pairs if v]


def entry_line(entry: Entry, report: Report) -> str:
    stamp = f"[{when(entry.at, '%H:%M')}] " if report.timestamps and entry.at else ""
    custom = "[CUSTOM] " if entry.is_custom else ""
    detail = f" → {entry.detail}" if entry.detail else ""
    return f"{entry.number}. {stamp}{custom}{entry.title}{detail}"


def render_text(report: Report) -> str:
    lines = [report.flow, "=" * len(report.flow)]
    lines += [f"{k}: {v}" for k, v in header_pairs(report)]
    if report.variables:
        lines += ["", "Details", "-------"] + [f"{k}: {v}" for k, v in report.variables]
    lines += ["", "Steps", "-----"]
    for entry in report.entries:
        if entry.kind == "section":
            lines += ["", f"## {entry.title}"]
            continue
        lines.append(entry_line(entry, report))
        lines += [f"   $ {command}" for command in entry.commands]
        if entry.note:
            lines += [f"   Note: {line}" for line in entry.note.splitlines()]
    lines += outcome_lines(report)
    return "\n".join(lines).strip() + "\n"


def outcome_lines(report: Report) -> list[str]:
    lines = []
    if report.outcome:
        lines += ["", f"Outcome: {report.outcome}"]
    if report.outcome_notes:
        lines += ["Notes:", *[f"  {line}" for line in report.outcome_notes.splitlines()]]
    if report.next_steps:
        lines += ["Next steps:", *[f"  {line}" for line in report.next_steps.splitlines()]]
    return lines


def render_psa(report: Report) -> str:
    """Compact plain text for a PSA ticket's note field: no markup, one line per step."""
    title = f"ResolutionFlow: {report.flow}"
    meta = " | ".join(f"{k}: {v}" for k, v in header_pairs(report))
    lines = [title, meta]
    if report.variables:
        lines.append(" | ".join(f"{k}: {v}" for k, v in report.variables))
    lines.append("")
    for entry in report.entries:
        if entry.kind == "section":
            lines.append(f"-- {entry.title} --")
            continue
        lines.append(entry_line(entry, report))
        lines += [f"   > {command}" for command in entry.commands]
        if entry.note:
            lines.append(f"   Note: {' '.join(entry.note.split())}")
    lines += outcome_lines(report)
    return "\n".join(lines).strip() + "\n"


def md_escape(text: str) -> str:
    """Keep engineer text from turning into markdown structure (links, emphasis, HTML)."""
    for char in "\\`*_[]<>#|":
        text = text.replace(char, f"\\{char}")
    return text


def render_markdown(report: Report) -> str:
    lines = [f"# {md_escape(report.flow)}", ""]
    lines += [f"- **{k}:** {md_escape(v)}" for k, v in header_pairs(report)]
    lines += [f"- **{md_escape(k)}:** {md_escape(v)}" for k, v in report.variables]
    lines += ["", "## Steps", ""]
    for entry in report.entries:
        if entry.kind == "section":
            lines += ["", f"### {md_escape(entry.title)}", ""]
            continue
        stamp = f"`{when(entry.at, '%H:%M')}` " if report.timestamps and entry.at else ""
        custom = "**[CUSTOM]** " if entry.is_custom else ""
        detail = f" → *{md_escape(entry.detail)}*" if entry.detail else ""
        lines.append(f"{entry.number}. {stamp}{custom}{md_escape(entry.title)}{detail}")
        for command in entry.commands:
            lines += ["   ```", *[f"   {line}" for line in command.splitlines()], "   ```"]
        if entry.note:
            lines.append(f"   > {md_escape(' '.join(entry.note.split()))}")
    if report.outcome:
        lines += ["", "## Outcome", "", f"**{report.outcome}**"]
    if report.outcome_notes:
        lines += ["", md_escape(report.outcome_notes)]
    if report.next_steps:
        lines += ["", "**Next steps:**", "", md_escape(report.next_steps)]
    return "\n".join(lines).strip() + "\n"


@dataclass
class HtmlGroup:
    """Steps under one section header (or before the first one), numbered from `start`."""

    title: str
    start: int
    items: list[tuple[str, Entry]] = field(default_factory=list)  # (time stamp, entry)


def html_groups(report: Report) -> list[HtmlGroup]:
    groups = [HtmlGroup(title="", start=1)]
    for entry in report.entries:
        if entry.kind == "section":
            groups.append(HtmlGroup(title=entry.title, start=next_number(report, entry)))
            continue
        stamp = when(entry.at, "%H:%M") if report.timestamps and entry.at else ""
        groups[-1].items.append((stamp, entry))
    return [group for group in groups if group.title or group.items]


def render_html(report: Report) -> str:
    """A standalone HTML document; the template escapes every piece of engineer text."""
    context = {
        "report": report,
        "pairs": [*header_pairs(report), *report.variables],
        "groups": html_groups(report),
    }
    return render_to_string("flowsessions/exports/session.html", context)


def next_number(report: Report, section: Entry) -> int:
    index = report.entries.index(section)
    following = [e.number for e in report.entries[index:] if e.number is not None]
    return following[0] if following else 1


RENDERERS = {
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
    "psa": render_psa,
}


def export_session(
    session: FlowSession, *, fmt: str, timestamps: bool = True, cut_off: int | None = None
) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"Unknown export format “{fmt}”: use {', '.join(RENDERERS)}.")
    text = RENDERERS[fmt](build_report(session, timestamps=timestamps, cut_off=cut_off))
    return re.sub(r"\n{3,}", "\n\n", text)  # sections after headings leave no double gaps
