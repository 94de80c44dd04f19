"""One report per batch for the change ticket (issue 13): a header (flow, ticket, who launched,
window, totals per state, duration total and median) and one line per target (state, who,
duration, notes), in psa text, plain text, markdown, HTML and CSV. Engineer text goes through
the same scanner as a session's Copy for Ticket, so the batch page's copy can redact it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.template.loader import render_to_string

from sessions import selectors
from sessions.exports import Document, Scanner, in_reading_order, md_escape, when
from sessions.models import Batch, Outcome, TargetMark

FORMATS = {
    "psa": ("text/plain", "txt"),
    "text": ("text/plain", "txt"),
    "markdown": ("text/markdown", "md"),
    "html": ("text/html", "html"),
    "csv": ("text/csv", "csv"),
}
STATE_NAMES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    **dict(Outcome.choices),
    **dict(TargetMark.choices),
}


@dataclass
class Line:
    target: str
    state: str
    who: str
    duration: str
    attempt: int
    notes: str


@dataclass
class BatchReport:
    flow: str
    ticket: str
    launched_by: str
    window: str
    totals: list[tuple[str, int]]
    total_duration: str
    median: str
    lines: list[Line]

    def header(self) -> list[tuple[str, str]]:
        pairs = [
            ("Ticket", self.ticket),
            ("Launched by", self.launched_by),
            ("Window", self.window),
            ("Targets", " · ".join(f"{n} {label.lower()}" for label, n in self.totals)),
            (
                "Duration",
                f"total {self.total_duration or '—'}, median {self.median or '—'}",
            ),
        ]
        return [(k, v) for k, v in pairs if v]


def build(batch: Batch, scan=lambda text: text) -> BatchReport:  # type: ignore[no-untyped-def]
    """Two queries: the targets (latest attempts, with runner) and the launcher."""
    status = selectors.batch_status(batch)
    cards = sorted(status.cards, key=lambda card: card.session.position)
    states = [card.session.outcome if card.state == "complete" else card.state for card in cards]
    starts = [c.session.started_at for c in cards if c.session.started_at]
    ends = [c.session.completed_at for c in cards if c.session.completed_at]
    window = ""
    if starts:
        window = f"{when(min(starts))} – {when(max(ends)) if ends else 'ongoing'}"
    totals = [(STATE_NAMES[key], states.count(key)) for key in STATE_NAMES if states.count(key)]
    return BatchReport(
        flow=batch.tree.name,
        ticket=batch.ticket_number,
        launched_by=batch.created_by.display_name if batch.created_by else "",
        window=window,
        totals=totals,
        total_duration=status.total_duration,
        median=status.median_duration,
        lines=[
            Line(
                target=scan(card.session.target_label),
                state=STATE_NAMES.get(state, state),
                who=card.session.user.display_name if card.session.user else "",
                duration=card.session.duration_text,
                attempt=card.session.attempt,
                notes=scan(
                    " ".join((card.session.mark_note or card.session.outcome_notes).split())
                ),
            )
            for card, state in zip(cards, states, strict=True)
        ],
    )


def one_line(text: str) -> str:
    return " ".join((text or "").split())


def line_text(line: Line, sep: str = " | ") -> str:
    parts = [line.target, line.state, line.who, line.duration]
    if line.attempt > 1:
        parts.append(f"attempt {line.attempt}")
    text = sep.join(p for p in parts if p)
    return f"{text} — {line.notes}" if line.notes else text


def render_psa(report: BatchReport) -> str:
    lines = [f"ResolutionFlow batch: {report.flow}"]
    lines.append(" | ".join(f"{k}: {v}" for k, v in report.header()))
    lines += ["", *[line_text(line) for line in report.lines]]
    return "\n".join(lines) + "\n"


def render_text(report: BatchReport) -> str:
    title = f"Batch: {report.flow}"
    lines = [title, "=" * len(title), *[f"{k}: {v}" for k, v in report.header()]]
    lines += ["", "Targets", "-------", *[f"- {line_text(line)}" for line in report.lines]]
    return "\n".join(lines) + "\n"


def render_markdown(report: BatchReport) -> str:
    lines = [f"# Batch: {md_escape(report.flow)}", ""]
    lines += [f"- **{k}:** {md_escape(v)}" for k, v in report.header()]
    lines += [
        "",
        "| Target | State | Who | Duration | Attempt | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for line in report.lines:
        cells = [line.target, line.state, line.who, line.duration, str(line.attempt), line.notes]
        lines.append("| " + " | ".join(md_escape(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def render_html(report: BatchReport) -> str:
    return render_to_string("flowsessions/exports/batch.html", {"report": report})


def render_csv(report: BatchReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["target", "state", "who", "duration", "attempt", "notes"])
    for line in report.lines:
        row = [line.target, line.state, line.who, line.duration, line.attempt, line.notes]
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow([f"'{c}" if str(c)[:1] in "=+-@" else c for c in row])
    return out.getvalue()


RENDERERS = {
    "psa": render_psa,
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
    "csv": render_csv,
}


def report_document(batch: Batch, *, fmt: str) -> Document:
    """The report with its findings marked (the Copy for Ticket preview resolves them)."""
    if fmt not in RENDERERS:
        raise ValueError(f"Unknown report format “{fmt}”: use {', '.join(RENDERERS)}.")
    account = batch.account
    scanner = Scanner(internal=bool(account and account.redact_internal))
    text = RENDERERS[fmt](build(batch, scan=scanner))
    return in_reading_order(re.sub(r"\n{3,}", "\n\n", text), scanner.found)


def batch_report(batch: Batch, *, fmt: str, redact: bool = False) -> str:
    return report_document(batch, fmt=fmt).text(redact=redact)
