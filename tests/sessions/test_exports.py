import re

import pytest

from flows.models import TreeType
from sessions import exports, services
from sessions.models import FlowSession
from tests.factories import TreeFactory


@pytest.fixture
def worked_session(proc_session, engineer) -> FlowSession:
    s = services.session_step_update(
        session=proc_session, user=engineer, step_id="snapshot", done=True, note="Snap *taken*"
    )
    s, _ = services.session_custom_step_add(
        session=s,
        user=engineer,
        inserted_after="snapshot",
        title="Check [VAR:server] disk",
        commands="Get-PSDrive C",
    )
    return services.session_complete(
        session=s,
        user=engineer,
        outcome="workaround",
        outcome_notes="Ran out of window",
        next_steps="Finish Sunday",
    )


@pytest.mark.parametrize("fmt", list(exports.FORMATS))
def test_every_format_has_header_steps_custom_marker_variables_and_outcome(worked_session, fmt):
    text = exports.export_session(worked_session, fmt=fmt)
    for expected in [
        "Patch a server",
        "T-2",
        "Take a snapshot",
        "[CUSTOM]",
        "Check RDS-01 disk",
        "Install updates",
        "Workaround applied",
        "Ran out of window",
        "Finish Sunday",
        "Get-PSDrive C",
    ]:
        assert expected in text, (fmt, expected)
    assert "[VAR:server]" not in text


def test_psa_layout(worked_session):
    text = exports.export_session(worked_session, fmt="psa")
    lines = text.splitlines()
    assert lines[0] == "ResolutionFlow: Patch a server"
    assert "Ticket: T-2" in lines[1] and "Duration:" in lines[1]
    assert "-- Preparation --" in lines
    assert any(
        line.startswith("2. [") and "[CUSTOM] Check RDS-01 disk → Not done" in line
        for line in lines
    )
    assert "   Note: Snap *taken*" in lines
    assert "Outcome: Workaround applied" in lines


def test_timestamps_can_be_left_out(worked_session):
    with_times = exports.export_session(worked_session, fmt="text")
    without = exports.export_session(worked_session, fmt="text", timestamps=False)
    assert "Started:" in with_times and "Started:" not in without
    assert "1. [" in with_times and "1. Take a snapshot" in without


def test_cut_off_after_step_n(worked_session):
    text = exports.export_session(worked_session, fmt="text", cut_off=1)
    assert "Take a snapshot" in text and "Install updates" not in text and "[CUSTOM]" not in text


def test_html_and_markdown_escape_engineer_text(proc_session, engineer):
    s = services.session_step_update(
        session=proc_session,
        user=engineer,
        step_id="patch",
        note="<img src=x onerror=alert(1)> [click](javascript:alert(1))",
    )
    html = exports.export_session(s, fmt="html")
    assert "<img" not in html and "&lt;img" in html
    assert "<a " not in html and "href" not in html  # the javascript: link stays text
    markdown = exports.export_session(s, fmt="markdown")
    assert "[click](javascript" not in markdown and "\\[click\\]" in markdown
    assert re.search(r"(?<!\\)<img", markdown) is None


def test_html_export_numbers_steps_across_sections(account, owner, engineer):
    flow = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure={
            "steps": [
                {"id": "check", "type": "procedure_step", "title": "Check the backup"},
                {"id": "work", "type": "section_header", "title": "The <work>"},
                {"id": "stop", "type": "procedure_step", "title": "Stop the service"},
                {"id": "patch", "type": "procedure_step", "title": "Patch"},
                {"id": "end", "type": "procedure_end", "title": "Done"},
            ]
        },
    )
    session = services.session_start(tree=flow, user=engineer, ticket_number="T-9")
    session = services.session_step_update(
        session=session, user=engineer, step_id="check", done=True
    )

    html = exports.export_session(session, fmt="html", timestamps=False)

    lists = re.findall(r'<ol start="(\d+)">(.*?)</ol>', html, flags=re.S)
    assert [(start, body.count("<li>")) for start, body in lists] == [("1", 1), ("2", 2)]
    assert "<li>Check the backup → <em>Done</em>" in lists[0][1]
    assert "<h3>The &lt;work&gt;</h3>" in html
    assert html.index("<h3>The &lt;work&gt;</h3>") < html.index("Stop the service")
    assert "<time>" not in html


def test_troubleshooting_export_lists_decisions_actions_and_the_solution(ts_session, engineer):
    s = services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="red"
    )
    s = services.session_answer(session=s, user=engineer, node_id="restart", choice="done")
    s = services.session_answer(session=s, user=engineer, node_id="root", choice="No")
    s = services.session_step_update(session=s, user=engineer, step_id="fixed", note="traffic ok")
    text = exports.export_session(s, fmt="text", timestamps=False)
    assert "1. Does the tunnel show as down on both peers? → Yes" in text
    assert "   Note: red" in text
    assert "2. Restart the VPN service → Done" in text
    assert "4. Tunnel restored → Reached" in text and "Note: traffic ok" in text


def test_unknown_format_is_refused(ts_session):
    with pytest.raises(ValueError):
        exports.export_session(ts_session, fmt="pdf")
