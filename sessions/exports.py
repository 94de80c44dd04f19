"""A session as text for the ticket: text, markdown, html and psa.

One `Report` is built from the session (variables filled, custom steps marked, cut off after
step N when asked, the flow's commands of ticked steps when asked) and each format only lays it
out, so all four always say the same thing.

Redaction: while the report is built, every piece of engineer text goes through the detector
and each finding is wrapped in private-use marker characters. The formats lay the marked text
out like any other, and `Document` then resolves each marker: the secret, or
``[REDACTED:<kind>]``. So every format redacts the same findings, and the preview can show
them highlighted in the very text that will be copied. The stored session is never changed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from flows import nodes
from sessions import redaction, runtime, tidy
from sessions.models import BUILTIN_TARGET_VARIABLE, EventKind, FlowSession, SessionEvent
from sessions.services.handover import handover_line

FORMATS = {
    "psa": ("text/plain", "txt"),
    "text": ("text/plain", "txt"),
    "markdown": ("text/markdown", "md"),
    "html": ("text/html", "html"),
}

# How many findings an answer redacted (API and downloads).
FINDINGS_HEADER = "X-Redacted-Findings"
OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
MARKED = re.compile(f"{OPEN}(\\d+){SEP}(.*?){CLOSE}", re.DOTALL)
_MARKER_CHARS = {ord(OPEN): None, ord(SEP): None, ord(CLOSE): None}


@dataclass(frozen=True)
class Found:
    """One finding of the export: its kind and the text it covers."""

    kind: str
    text: str

    @property
    def label(self) -> str:
        return redaction.KINDS[self.kind]

    @property
    def replacement(self) -> str:
        return f"[REDACTED:{self.kind}]"


@dataclass
class Scanner:
    """Marks the findings in each text of a report, numbering them across the whole export."""

    internal: bool = False
    found: list[Found] = field(default_factory=list)

    def __call__(self, text: str) -> str:
        text = (text or "").translate(_MARKER_CHARS)
        out, position = [], 0
        for finding in redaction.find(text, internal=self.internal):
            index = len(self.found)
            self.found.append(Found(finding.kind, text[finding.start : finding.end]))
            out += [text[position : finding.start], f"{OPEN}{index}{SEP}"]
            out += [text[finding.start : finding.end], CLOSE]
            position = finding.end
        out.append(text[position:])
        return "".join(out)


@dataclass
class Document:
    """An export with its findings marked; `text()` resolves them."""

    marked: str
    found: list[Found]

    def text(self, *, redact: bool = False, keep: frozenset[int] = frozenset()) -> str:
        """The export as is, or with every finding not in `keep` redacted."""

        def resolve(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if not redact or index in keep:
                return match.group(2)
            return self.found[index].replacement

        return MARKED.sub(resolve, self.marked)

    def segments(self) -> list[tuple[str, int | None]]:
        """(text, finding index or None) in order: the preview highlights the findings."""
        parts: list[tuple[str, int | None]] = []
        position = 0
        for match in MARKED.finditer(self.marked):
            if match.start() > position:
                parts.append((self.marked[position : match.start()], None))
            parts.append((match.group(2), int(match.group(1))))
            position = match.end()
        if position < len(self.marked):
            parts.append((self.marked[position:], None))
        return parts


def _no_scan(text: str) -> str:
    return text or ""


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
    # "Handed over from A to B at 14:02: note", oldest first.
    handovers: list[str] = field(default_factory=list)


def handover_lines(session: FlowSession, scan) -> list[str]:  # type: ignore[no-untyped-def]
    events = SessionEvent.objects.filter(session=session, kind=EventKind.HANDOVER)
    return [scan(handover_line(e.payload or {}, e.at)) for e in events.order_by("at", "id")]


def parse_at(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def troubleshooting_entries(session: FlowSession, *, commands: bool, scan=_no_scan) -> list[Entry]:
    entries = []
    for number, item in enumerate(runtime.breadcrumb(session), start=1):
        kind = item.node.get("type", "decision")
        detail = "Done" if kind == "action" else item.choice
        run = node_commands(session, item.node) if commands and kind == "action" else []
        entries.append(
            Entry(
                number,
                scan(item.heading),
                kind,
                scan(detail),
                scan(item.note),
                parse_at(item.at),
                [scan(code) for code in run],
            )
        )
    node = runtime.current_node(session)
    if not node:
        return entries
    note = scan(runtime.pending_note(session, node["id"]))
    title = scan(session.fill(nodes.heading(node)))
    if node.get("type") == "solution":
        entries.append(Entry(len(entries) + 1, title, "solution", "Reached", note))
    elif note:
        # Where the engineer stopped, with what they wrote there: the ticket should say so.
        entries.append(Entry(len(entries) + 1, title, node.get("type", ""), "Not answered", note))
    return entries


def node_commands(session: FlowSession, node: dict[str, Any]) -> list[str]:
    return [c["code"] for c in runtime.filled_commands(session, node.get("commands")) if c["code"]]


def checklist_entries(session: FlowSession, *, commands: bool, scan=_no_scan) -> list[Entry]:
    """Custom steps print their commands (the engineer typed them for this run); the flow's
    own commands print for ticked steps when asked (they were run)."""
    entries = []
    for row in runtime.checklist(session):
        if row.kind == "section_header":
            entries.append(Entry(None, scan(row.title), "section"))
            continue
        run = row.is_custom or (commands and row.done)
        entries.append(
            Entry(
                number=row.number,
                title=scan(row.title),
                kind="custom" if row.is_custom else "step",
                detail="Done" if row.done else "Not done",
                note=scan(row.note),
                at=parse_at(row.at),
                commands=[scan(c["code"]) for c in row.commands if c["code"]] if run else [],
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


def commands_by_default(session: FlowSession) -> bool:
    """Checklists were run command by command; a troubleshooting path is about decisions."""
    return not session.is_troubleshooting


def build_report(
    session: FlowSession,
    *,
    timestamps: bool = True,
    cut_off: int | None = None,
    include_commands: bool | None = None,
    scan=_no_scan,
) -> Report:
    commands = commands_by_default(session) if include_commands is None else include_commands
    entries = (
        troubleshooting_entries(session, commands=commands, scan=scan)
        if session.is_troubleshooting
        else checklist_entries(session, commands=commands, scan=scan)
    )
    form = session.intake_form_snapshot or []
    labels = {f.get("name"): tidy.label_without_hint(f.get("label") or f.get("name")) for f in form}
    ticket_name = tidy.ticket_field(form)
    # One ticket number: the flow's ticket field is the session's and heads the report.
    ticket = session.ticket_number or str(session.variables.get(ticket_name) or "")
    return Report(
        flow=session.tree_name,
        ticket=ticket,
        client=scan(session.client_name),
        target=scan(session.target_label),
        engineer=session.user.display_name if session.user else "",
        started=session.started_at,
        completed=session.completed_at,
        duration=session.duration_text,
        # The target already heads the report; the built-in [VAR:target] would repeat it.
        variables=[
            (labels.get(k, k), scan(str(v)))
            for k, v in session.variables.items()
            if v and k != ticket_name and not (k == BUILTIN_TARGET_VARIABLE and k not in labels)
        ],
        entries=cut(entries, cut_off),
        status=session.get_status_display(),
        outcome=session.get_outcome_display() if session.outcome else "",
        outcome_notes=scan(session.outcome_notes),
        next_steps=scan(session.next_steps),
        timestamps=timestamps,
        handovers=handover_lines(session, scan),
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
        for command in entry.commands:
            lines += tidy.command_lines(command, first="   $ ", rest="     ")
        if entry.note:
            lines += [f"   Note: {line}" for line in entry.note.splitlines()]
    lines += outcome_lines(report)
    return "\n".join(lines).strip() + "\n"


def outcome_lines(report: Report) -> list[str]:
    lines = [""] + report.handovers if report.handovers else []
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
        # One line of details: a multi-line answer (a list of groups) joins with semicolons.
        lines.append(" | ".join(f"{k}: {'; '.join(v.splitlines())}" for k, v in report.variables))
    lines.append("")
    for entry in report.entries:
        if entry.kind == "section":
            lines.append(f"-- {entry.title} --")
            continue
        lines.append(entry_line(entry, report))
        for command in entry.commands:
            lines += tidy.command_lines(command, first="   > ", rest="     ")
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
            lines += ["   ```", *tidy.command_lines(command, first="   ", rest="   "), "   ```"]
        if entry.note:
            lines.append(f"   > {md_escape(' '.join(entry.note.split()))}")
    if report.handovers:
        lines += ["", *[f"- {md_escape(line)}" for line in report.handovers]]
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


def export_document(
    session: FlowSession,
    *,
    fmt: str,
    timestamps: bool = True,
    cut_off: int | None = None,
    include_commands: bool | None = None,
) -> Document:
    """The export with its findings marked. The session's account decides whether internal
    addresses count as findings."""
    if fmt not in RENDERERS:
        raise ValueError(f"Unknown export format “{fmt}”: use {', '.join(RENDERERS)}.")
    account = session.account
    scanner = Scanner(internal=bool(account and account.redact_internal))
    report = build_report(
        session,
        timestamps=timestamps,
        cut_off=cut_off,
        include_commands=include_commands,
        scan=scanner,
    )
    text = RENDERERS[fmt](report)
    text = re.sub(r"\n{3,}", "\n\n", text)  # sections after headings leave no double gaps
    return in_reading_order(text, scanner.found)


def in_reading_order(marked: str, found: list[Found]) -> Document:
    """Number the findings as they appear in the text (the review list reads top to bottom);
    findings of steps left out (cut off) are not the export's."""
    order: dict[int, int] = {}

    def renumber(match: re.Match[str]) -> str:
        old = int(match.group(1))
        new = order.setdefault(old, len(order))
        return f"{OPEN}{new}{SEP}{match.group(2)}{CLOSE}"

    text = MARKED.sub(renumber, marked)
    return Document(marked=text, found=[found[old] for old in order])


def export_session(
    session: FlowSession,
    *,
    fmt: str,
    timestamps: bool = True,
    cut_off: int | None = None,
    include_commands: bool | None = None,
    redact: bool = False,
) -> str:
    document = export_document(
        session,
        fmt=fmt,
        timestamps=timestamps,
        cut_off=cut_off,
        include_commands=include_commands,
    )
    return document.text(redact=redact)


def finding_summary(found: list[Found]) -> list[tuple[str, int]]:
    """("Password", 2), ("AWS access key", 1): what the safe-copy preview's heading counts."""
    counts: dict[str, int] = {}
    for finding in found:
        counts[finding.label] = counts.get(finding.label, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
