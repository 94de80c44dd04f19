"""The flow diagram: the tidy tree layout (geometry asserted on the rendered SVG), the shared
partial on the flow page, in the editor and in the runner, and the diagram endpoint's tenancy
and query count."""

import re
from itertools import combinations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows import diagram
from flows.models import TreeStatus, TreeType
from sessions import services as session_services
from tests.factories import TreeFactory, big_troubleshooting_structure, troubleshooting_structure

HTMX = {"HTTP_HX_REQUEST": "true"}
BOX = re.compile(
    r'<g class="fd-node[^"]*" data-node="([^"]+)" data-parent="([^"]*)"[^>]*>\s*'
    r"(?:<title>[^<]*</title>\s*)?"
    r'<rect class="fd-box" x="(-?\d+)" y="(-?\d+)" width="(\d+)" height="(\d+)"'
)


def boxes(svg: str) -> dict[str, tuple[str, int, int, int, int]]:
    """Each drawn node's parent and rectangle, read back from the SVG."""
    found = {}
    for node_id, parent, x, y, w, h in BOX.findall(svg):
        found[node_id] = (parent, int(x), int(y), int(x) + int(w), int(y) + int(h))
    return found


def overlapping(rects: dict) -> list[tuple[str, str]]:
    return [
        (a, b)
        for (a, (_, ax0, ay0, ax1, ay1)), (b, (_, bx0, by0, bx1, by1)) in combinations(
            rects.items(), 2
        )
        if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
    ]


def render(structure, **options) -> str:
    from django.template.loader import render_to_string

    drawing = diagram.flow_diagram(structure, **options)
    return render_to_string("flows/_flow_diagram.html", {"diagram": drawing, "mode": "view"})


# --- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 20, 100])
def test_no_two_boxes_overlap_and_parents_sit_above_their_children(count):
    svg = render(big_troubleshooting_structure(count))
    rects = boxes(svg)
    assert len(rects) == count
    assert overlapping(rects) == []
    for _node_id, (parent, _x0, y0, _x1, _y1) in rects.items():
        if parent:
            assert rects[parent][4] < y0  # the parent's bottom is above the child's top


def test_a_parent_is_centred_over_its_children():
    layout = diagram.tidy_layout(big_troubleshooting_structure(100))
    for item in layout.nodes:
        if item.children:
            first, last = layout.nodes[item.children[0]], layout.nodes[item.children[-1]]
            assert item.centre_x == pytest.approx((first.centre_x + last.centre_x) / 2)


def test_layout_is_deterministic_and_follows_document_order():
    structure = big_troubleshooting_structure(100)
    one = [(n.id, n.x, n.y) for n in diagram.tidy_layout(structure).nodes]
    two = [(n.id, n.x, n.y) for n in diagram.tidy_layout(big_troubleshooting_structure(100)).nodes]
    assert one == two
    layout = diagram.tidy_layout(structure)
    for item in layout.nodes:  # siblings left to right in the order the author wrote them
        xs = [layout.nodes[child].x for child in item.children]
        assert xs == sorted(xs)


def test_100_nodes_stay_compact_enough_to_read_when_fitted():
    """The tidy layout packs subtrees under each other: far narrower than one column per leaf."""
    structure = big_troubleshooting_structure(100)
    layout = diagram.tidy_layout(structure)
    leaves = sum(1 for item in layout.nodes if not item.children)
    assert layout.width < leaves * diagram.SLOT


def test_hostile_nesting_is_cut_at_the_caps_not_a_crash():
    deep = node = {"id": "n0", "type": "decision", "question": "0", "children": []}
    for number in range(1, 5000):
        child = {"id": f"n{number}", "type": "decision", "question": str(number), "children": []}
        node["children"].append(child)
        node = child
    layout = diagram.tidy_layout(deep)
    assert layout.truncated and len(layout.nodes) == diagram.MAX_DIAGRAM_DEPTH
    assert diagram.tidy_layout("not a tree").nodes == []


# --- what is drawn ------------------------------------------------------------------------


def test_boxes_show_heading_and_type_and_edges_carry_the_option_text():
    svg = render(troubleshooting_structure())
    assert "◆ Decision" in svg and "▶ Action" in svg and "⚑ Solution" in svg
    assert "Restart the VPN service" in svg and "Tunnel restored" in svg
    labels = dict(
        re.findall(r'<text class="fd-edge-label[^"]*"[^>]*data-target="(\w+)">([^<]+)</text>', svg)
    )
    assert labels["restart"] == "Yes" and labels["fixed"] == "No"
    # The action's "Then" leads back up to the question: a loop, drawn apart from the tree.
    assert labels["root"] == "↩ Then"
    assert re.search(r'class="fd-edge fd-edge-back"[^>]*data-source="restart"', svg)
    assert 'aria-label="Decision: Does the tunnel show as down on both peers? Leads to: Yes' in svg


def test_node_text_is_escaped():
    structure = troubleshooting_structure()
    structure["children"][1]["title"] = "<script>alert(1)</script>"
    svg = render(structure)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_long_headings_wrap_to_two_lines_and_keep_the_full_text_in_the_name():
    structure = troubleshooting_structure()
    long = "Restart the print spooler on the print server and clear the stuck jobs queue"
    structure["children"][0]["title"] = long
    drawing = diagram.flow_diagram(structure)
    box = next(node for node in drawing.nodes if node.id == "restart")
    assert len(box.lines) == 2 and box.lines[-1].endswith("…")
    assert all(len(line) <= diagram.LINE_CHARS for line in box.lines)
    assert long in box.aria_label and box.is_cut
    assert f"<title>{long}</title>" in render(structure)  # the whole heading on hover


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def big_flow(account, owner):
    return TreeFactory(
        name="Printer triage",
        account=account,
        author=owner,
        tree_structure=big_troubleshooting_structure(100),
    )


def test_flow_page_offers_diagram_and_keeps_the_outline(client, engineer, big_flow):
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[big_flow.pk])).content.decode()
    assert 'data-view-toggle="diagram"' in body and 'data-view="outline"' in body
    assert reverse("flows:diagram", args=[big_flow.pk]) in body
    assert "Question 0: is the service up?" in body  # the outline is still there


def test_diagram_partial_draws_every_node_in_constant_queries(
    client, engineer, big_flow, account, owner
):
    small_flow = TreeFactory(account=account, author=owner)
    client.force_login(engineer)

    def queries(flow) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("flows:diagram", args=[flow.pk]), **HTMX)
        assert response.status_code == 200
        return len(captured)

    queries(small_flow)  # warm the login session
    assert queries(big_flow) == queries(small_flow) <= 4
    svg = client.get(reverse("flows:diagram", args=[big_flow.pk]), **HTMX).content.decode()
    assert "<html" not in svg
    assert len(boxes(svg)) == 100
    assert overlapping(boxes(svg)) == []


def test_outsider_gets_404_for_the_diagram(client, outsider, big_flow):
    client.force_login(outsider)
    assert client.get(reverse("flows:diagram", args=[big_flow.pk]), **HTMX).status_code == 404


def test_checklists_have_no_tree_diagram(client, owner, account):
    checklist = TreeFactory(account=account, author=owner, tree_type=TreeType.PROCEDURAL)
    client.force_login(owner)
    assert client.get(reverse("flows:diagram", args=[checklist.pk]), **HTMX).status_code == 404


def test_editor_diagram_links_nodes_to_their_forms_and_offers_add(client, owner, account):
    draft = TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)
    client.force_login(owner)
    body = client.get(reverse("flows:edit", args=[draft.pk])).content.decode()
    assert 'id="editor-diagram"' in body and 'data-mode="edit"' in body
    assert 'data-edit="restart"' in body
    # + on the question and the action (their add forms exist), not on the solution.
    assert set(re.findall(r'data-add="(\w+)"', body)) == {"root", "restart"}
    assert 'aria-label="Add a node under “Does the tunnel show as down on both peers?”"' in body


def test_editor_diagram_follows_a_change(client, owner, account):
    draft = TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)
    client.force_login(owner)
    response = client.post(
        reverse("flows:editor_node_add", args=[draft.pk, "root"]),
        {
            "revision": draft.revision,
            "node_type": "solution",
            "text": "Escalate to networks",
            "link": "new",
            "option_label": "Unsure",
        },
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    svg = response.content.decode()
    assert re.search(r"<tspan[^>]*>Escalate to networks</tspan>", svg)
    assert re.search(r'data-target="s1">Unsure</text>', svg)


def test_runner_marks_the_path_and_the_current_node(client, engineer, account, owner):
    flow = TreeFactory(
        account=account, author=owner, tree_structure=big_troubleshooting_structure(20)
    )
    session = session_services.session_start(tree=flow, user=engineer)
    root = flow.tree_structure
    first = root["options"][0]
    session_services.session_answer(
        session=session, user=engineer, node_id="q0", choice=first["label"]
    )
    client.force_login(engineer)
    body = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    current = first["next_node_id"]
    assert re.search(r'class="fd-node fd-decision is-visited" data-node="q0"', body)
    assert re.search(
        rf'class="fd-node fd-\w+ is-current" data-node="{current}"[^>]*tabindex="0"', body
    )
    assert "✓ Visited" in body and "➤ You are here" in body
    assert re.search(
        rf'class="fd-edge fd-edge-tree is-on-path"[^>]*data-source="q0" data-target="{current}"',
        body,
    )
    # Only the followed edge is highlighted.
    assert body.count("fd-edge fd-edge-tree is-on-path") == 1


def test_a_version_diff_is_drawn_with_signs_and_lists_removed_nodes():
    from django.template.loader import render_to_string

    from flows import diff

    before = troubleshooting_structure()
    after = troubleshooting_structure()
    after["children"][0]["title"] = "Restart the IPsec service"
    after["children"][1] = {"id": "new", "type": "solution", "title": "Rekeyed"}
    after["options"][1]["next_node_id"] = "new"
    changes = diff.structure_diff("troubleshooting", before, after)
    drawing = diagram.flow_diagram(after, marks=diagram.change_marks(changes.changes))
    html = render_to_string("flows/_diff_diagram.html", {"tree_diagram": drawing, "diff": changes})
    assert re.search(r'class="fd-node fd-solution is-added" data-node="new"', html)
    assert re.search(r'class="fd-node fd-action is-changed" data-node="restart"', html)
    assert "+ Added" in html and "✎ Changed" in html
    assert "Removed: Tunnel restored" in html


def test_diagram_without_htmx_goes_to_the_flow_page(client, engineer, big_flow):
    client.force_login(engineer)
    response = client.get(reverse("flows:diagram", args=[big_flow.pk]))
    assert response.status_code == 302
    assert response.url == reverse("flows:detail", args=[big_flow.pk])


def test_coordinates_are_never_localised(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    svg = render(big_troubleshooting_structure(100))
    width = re.search(r'data-width="([^"]+)"', svg).group(1)
    assert width.isdigit() and int(width) > 1000
    assert not re.search(r'(?:x|y|d)="[^"]*\d,\d{3}', svg)
