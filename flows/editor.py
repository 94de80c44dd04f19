"""Editor changes to a flow's structure and intake form: one small service per change.

Every change runs the same way (`_change`): lock the flow row, refuse a page rendered from an
older revision (another tab or person changed the flow since), apply the change to a copy,
re-check the draft's shape with `flows/structure.py` and save. A published flow is never
changed in place: the copy is its working copy (`draft_structure`, `draft_intake_form`) until
`services.tree_publish` applies it, so engineers running the flow never see half-made edits.

Nodes are addressed by id. An id that is unknown (removed in another tab) or shared by two
nodes is refused with a message; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from django.db import transaction

from accounts.models import User
from flows import nodes, structure
from flows.models import Tree
from flows.services import (
    CONFLICT_MESSAGE,
    EditConflict,
    check_revision,
    content_write,
    ensure_can_edit,
    locked,
)
from flows.structure import StructureError, StructureInvalid

__all__ = ["CONFLICT_MESSAGE", "EditConflict"]  # the editor views catch the conflict here
# What the editor may change on each kind of node, their kinds and which are required come
# from the format table (flows/nodes.py); `id`, `type`, `children` and `options` are structural.
MAX_LABEL = nodes.MAX_LABEL

Direction = Literal["up", "down"]


class EditRefused(StructureInvalid):
    """The change does not fit the current structure; `errors` say why and where."""


def refuse(message: str, *, node_id: str | None = None, field: str | None = None) -> EditRefused:
    return EditRefused([StructureError(node_id, field, message)])


@dataclass
class Working:
    """Copies of what the editor changes; a change mutates them in place."""

    tree_type: str
    structure: Any
    intake_form: Any
    other_ids: frozenset[str] = frozenset()  # more valid link targets (a merge's other side)

    @property
    def is_checklist(self) -> bool:
        return self.tree_type in nodes.STEP_TREE_TYPES


@dataclass(frozen=True)
class Edited:
    tree: Tree
    node_id: str | None = None  # what the change created or touched, for the page to open
    message: str = ""


Outcome = tuple[str | None, str]  # (node id, message) returned by a change


def _change(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    apply: Callable[[Working], Outcome],
) -> Edited:
    """Run one change under the row lock; `revision=None` skips the stale-page check."""
    ensure_can_edit(tree=tree, user=user)
    with transaction.atomic():
        tree = locked(tree)
        check_revision(tree, revision)
        work = Working(
            tree.tree_type,
            nodes.copy_json(tree.editing_structure),
            nodes.copy_json(tree.editing_intake_form),
        )
        node_id, message = apply(work)
        if work.is_checklist:
            _keep_end_last(work)
        try:
            changed = content_write(
                tree, tree_structure=work.structure, intake_form=work.intake_form
            )
        except StructureInvalid as invalid:
            raise EditRefused(invalid.errors) from invalid
        tree.save(update_fields=changed)
    return Edited(tree=tree, node_id=node_id, message=message)


# --- finding nodes --------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = str(value)
    return f"{text[:60]}…" if len(text) > 60 else text


def _steps(work: Working) -> list:
    steps = work.structure.get("steps") if isinstance(work.structure, dict) else None
    if not isinstance(steps, list):
        raise refuse("The steps list is missing or broken; repair it under Advanced: edit JSON.")
    return steps


def _places(work: Working) -> Iterator[nodes.Visit]:
    """Every node with where it sits (``siblings``, ``index``, ``parent``), in document order."""
    if work.is_checklist:
        _steps(work)  # refuses a broken steps list instead of showing nothing to change
    elif not isinstance(work.structure, dict):
        raise refuse("The structure is not a tree; repair it under Advanced: edit JSON.")
    yield from nodes.walk(work.tree_type, work.structure)


def _find(work: Working, node_id: Any) -> nodes.Visit:
    if not isinstance(node_id, str) or not node_id:
        raise refuse("No node was given.")
    matches = [place for place in _places(work) if place.node.get("id") == node_id]
    if not matches:
        raise refuse(
            f"There is no node '{_short(node_id)}' (any more); it may have been removed in "
            "another tab. The editor now shows the current version.",
            node_id=None,
        )
    if len(matches) > 1:
        raise refuse(
            f"Several nodes have the id '{_short(node_id)}', so the editor cannot tell them "
            "apart. Rename one under Advanced: edit JSON.",
            node_id=node_id,
        )
    return matches[0]


def _all_ids(work: Working) -> set[str]:
    found = {place.node["id"] for place in _places(work) if isinstance(place.node.get("id"), str)}
    return found | work.other_ids


def _new_id(node_type: str, taken: set[str]) -> str:
    """A short id that never changes (messages name nodes by their heading, not their id)."""
    return nodes.short_id(node_type, taken)


def _heading(node: dict) -> str:
    return _short(nodes.heading(node, fallback="node"))


# --- values ---------------------------------------------------------------------------------


def _clean_text(node_id: str | None, key: str, value: Any, *, required: bool) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise refuse(f"{key} must be text.", node_id=node_id, field=key)
    value = value.strip()
    if required and not value:
        raise refuse(f"The {key} cannot be empty.", node_id=node_id, field=key)
    return value or None


def _clean_commands(node_id: str | None, value: Any) -> list[dict[str, str]] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return structure.normalise_commands(value)
    if not isinstance(value, list):
        raise refuse("Commands must be a list.", node_id=node_id, field="commands")
    commands = []
    for item in value:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key, ""), str) for key in ("code", "language", "label")
        ):
            raise refuse(
                "Each command needs text code, language and label.",
                node_id=node_id,
                field="commands",
            )
        if item.get("code", "").strip():
            commands.append(
                {
                    "language": item.get("language", "").strip() or "shell",
                    "label": item.get("label", "").strip(),
                    "code": item["code"],
                }
            )
    return commands or None


def _clean_choice(node_id: str | None, key: str, value: Any, allowed: Iterable[str]) -> Any:
    if value in (None, ""):
        return None
    allowed = tuple(allowed)
    if value not in allowed:
        raise refuse(f"Choose one of {', '.join(allowed)}.", node_id=node_id, field=key)
    return value


def _clean_target(work: Working, node_id: str | None, value: Any, field: str) -> str | None:
    """A link to another node: empty, or an id that exists now (loops are allowed)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in _all_ids(work):
        raise refuse(
            f"There is no node '{_short(value)}' to go to; choose one from the list.",
            node_id=node_id,
            field=field,
        )
    return value


def _clean_minutes(node_id: str | None, key: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    if type(value) is not int or value < 0:
        raise refuse("Use whole minutes, 0 or more.", node_id=node_id, field=key)
    return value


def _clean_url(node_id: str | None, key: str, value: Any) -> str | None:
    url = _clean_text(node_id, key, value, required=False)
    if url and not nodes.is_http_url(url):
        raise refuse("The link must start with http:// or https://.", node_id=node_id, field=key)
    return url


def _clean_value(work: Working, node: dict, spec: nodes.FieldSpec, value: Any) -> Any:
    """Check one posted value by its kind in the format table."""
    node_id, key = node.get("id"), spec.name
    if spec.kind in nodes.TEXT_KINDS:
        return _clean_text(node_id, key, value, required=spec.required_at_publish)
    if spec.kind == "commands":
        return _clean_commands(node_id, value)
    if spec.kind == "target":
        return _clean_target(work, node_id, value, key)
    if spec.kind == "choice":  # the blank choice ("Inherit from flow") is the absence of the key
        return _clean_choice(node_id, key, value, spec.values)
    if spec.kind == "minutes":
        return _clean_minutes(node_id, key, value)
    if spec.kind == "url":
        return _clean_url(node_id, key, value)
    raise refuse(f"The editor cannot change {key}.", node_id=node_id, field=key)


def _set_fields(work: Working, node: dict, changes: dict[str, Any]) -> None:
    kind = nodes.node_type(node.get("type"))
    node_id = node.get("id")
    if kind is None:
        raise refuse(
            "This node has an unknown type; repair it under Advanced: edit JSON.", node_id=node_id
        )
    unknown = sorted(set(changes) - set(kind.editable))
    if unknown:
        article = "An" if kind.noun[0] in "aeiou" else "A"
        message = f"{article} {kind.noun} has no {', '.join(unknown)}."
        raise refuse(message, node_id=node_id, field=unknown[0])
    specs = {spec.name: spec for spec in kind.fields}
    cleaned = {key: _clean_value(work, node, specs[key], value) for key, value in changes.items()}
    for key, value in cleaned.items():
        if value is None:
            node.pop(key, None)  # empty optional fields are left out, as in hand-written flows
        else:
            node[key] = value


def _check_public_step(user: User, node: dict, changes: dict[str, Any]) -> None:
    """Only staff share a step with every team (a node already public may stay so)."""
    key = nodes.LIBRARY_VISIBILITY.name
    wanted = changes.get(key)
    if wanted == nodes.PUBLIC and not user.is_staff and node.get(key) != nodes.PUBLIC:
        raise refuse(
            "Only staff share steps with every team; choose Team only or inherit from the flow.",
            node_id=node.get("id"),
            field=nodes.LIBRARY_VISIBILITY.name,
        )


# --- nodes of both kinds --------------------------------------------------------------------


def tree_node_update(
    *, tree: Tree, user: User, revision: int | None, node_id: str, changes: dict[str, Any]
) -> Edited:
    """Change a node's or step's fields; empty optional fields are removed."""

    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        _check_public_step(user, node, changes)
        _set_fields(work, node, changes)
        return node_id, f"Saved “{_heading(node)}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def _subtree_ids(node: dict) -> set[str]:
    return {
        visit.node["id"] for visit in nodes.walk_tree(node) if isinstance(visit.node.get("id"), str)
    }


def _unlink(work: Working, removed: set[str]) -> int:
    """Clear links into removed nodes, so they show as "choose a target" instead of dangling."""
    cleared = 0
    for place in _places(work):
        node = place.node
        if node.get("next_node_id") in removed:
            node.pop("next_node_id")
            cleared += 1
        options = node.get("options")
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict) and option.get("next_node_id") in removed:
                option["next_node_id"] = ""
                cleared += 1
    return cleared


def tree_node_remove(*, tree: Tree, user: User, revision: int | None, node_id: str) -> Edited:
    """Delete a node with everything nested under it; links that led there are cleared."""

    def apply(work: Working) -> Outcome:
        place = _find(work, node_id)
        node = place.node
        if place.siblings is None:
            raise refuse(
                "The first question cannot be deleted; change it instead.", node_id=node_id
            )
        if node.get("type") == "procedure_end":
            ends = [p for p in _places(work) if p.node.get("type") == "procedure_end"]
            if len(ends) == 1:
                raise refuse("Every checklist ends with an end step.", node_id=node_id)
        removed = _subtree_ids(node)
        del place.siblings[place.index]
        cleared = _unlink(work, removed)
        message = f"Deleted “{_heading(node)}”"
        if len(removed) > 1:
            message += f" and {len(removed) - 1} nested node{'s' if len(removed) > 2 else ''}"
        if cleared:
            message += (
                f"; {cleared} link{'s' if cleared > 1 else ''} that led there need a new target"
            )
        parent_id = place.parent.get("id") if place.parent else None
        return parent_id, message + "."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def _destination(index: int, length: int, direction: Any, to: Any) -> int:
    """Where a move ends: one place up or down (the arrow buttons), or position ``to`` (a
    drag and drop), kept inside the list. The one rule both ways of reordering share."""
    if to is not None:
        if type(to) is not int:
            raise refuse("Say where to move it: a position in the list.")
        return max(0, min(to, length - 1))
    if direction not in ("up", "down"):
        raise refuse("Move up or down.")
    return max(0, min(index - 1 if direction == "up" else index + 1, length - 1))


def _move_item(items: list, index: int, destination: int) -> bool:
    """Move ``items[index]`` to ``destination``; False when it is already there."""
    if destination == index:
        return False
    items.insert(destination, items.pop(index))
    return True


def tree_node_move(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    node_id: str,
    direction: Direction | None = None,
    to: int | None = None,
) -> Edited:
    """Move a node among its siblings (a step within the checklist): one place up or down
    with the arrow buttons, or to position ``to`` when dragged. The end step stays last."""
    _destination(0, 1, direction, to)  # refuses a bad request before locking anything

    def apply(work: Working) -> Outcome:
        place = _find(work, node_id)
        if place.siblings is None:
            raise refuse("The first question stays first.", node_id=node_id)
        if place.node.get("type") == "procedure_end":
            raise refuse("The end step is always last.", node_id=node_id)
        siblings, index = place.siblings, place.index
        movable = len(siblings) - (1 if _is_end(siblings[-1]) else 0)  # never past the end
        _move_item(siblings, index, _destination(index, movable, direction, to))
        return node_id, ""

    return _change(tree=tree, user=user, revision=revision, apply=apply)


# --- troubleshooting ------------------------------------------------------------------------


def _new_node(node_type: str, text: str, node_id: str) -> dict[str, Any]:
    kind = nodes.NODE_TYPES_BY_NAME[node_type]
    new = {"id": node_id, "type": node_type, kind.heading_field: text}
    return {**new, "options": [], "children": []} if kind.has_children else new


def _options(node: dict) -> list:
    if node.get("type") != "decision":
        raise refuse("Only decisions have options.", node_id=node.get("id"))
    options = node.setdefault("options", [])
    if not isinstance(options, list):
        raise refuse("The options are broken; repair them under Advanced: edit JSON.")
    return options


def _option_at(node: dict, index: Any) -> dict:
    options = _options(node)
    if type(index) is not int or not 0 <= index < len(options):
        raise refuse(
            "That option does not exist any more; the editor now shows the current version.",
            node_id=node.get("id"),
        )
    option = options[index]
    if not isinstance(option, dict):
        raise refuse("That option is broken; repair it under Advanced: edit JSON.")
    return option


def _clean_label(node: dict, label: Any, *, skip: int | None = None) -> str:
    node_id = node.get("id")
    if not isinstance(label, str) or not label.strip():
        raise refuse("Give the option a label, e.g. “Yes”.", node_id=node_id, field="label")
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise refuse(f"Keep labels to {MAX_LABEL} characters.", node_id=node_id, field="label")
    for index, option in enumerate(_options(node)):
        same = isinstance(option, dict) and str(option.get("label", "")).strip().casefold()
        if index != skip and same == label.casefold():
            raise refuse(f"There is already an option “{label}”.", node_id=node_id, field="label")
    return label


def _add_option(node: dict, label: str, target: str | None) -> None:
    options = _options(node)
    if len(options) >= structure.MAX_OPTIONS:
        raise refuse(f"A decision has at most {structure.MAX_OPTIONS} options.")
    options.append({"label": label, "next_node_id": target or ""})


def _clean_new_text(node_type: Any, text: Any) -> str:
    if node_type not in nodes.NODE_TYPES:
        raise refuse("Choose a decision, an action or a solution.", field="node_type")
    if not isinstance(text, str) or not text.strip():
        field = nodes.NODE_TYPES_BY_NAME[node_type].heading_field
        raise refuse(f"Give the new {node_type} a {field}.", field="text")
    return text.strip()


def tree_node_add(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    parent_id: str,
    node_type: str,
    text: str,
    option_index: int | None = None,
    option_label: str = "",
) -> Edited:
    """Add a decision, action or solution.

    Under a decision it becomes a child, and the target of option `option_index` or of a new
    option labelled `option_label` when given. After an action it becomes the action's next
    node (a new action slots into the chain: it continues where the old next node was)."""
    text = _clean_new_text(node_type, text)
    if option_index is not None and option_label.strip():
        raise refuse(  # never drop the label: which of the two was meant?
            "Choose either an existing option or a new option's label, not both.", field="label"
        )

    def apply(work: Working) -> Outcome:
        place = _find(work, parent_id)
        parent = place.node
        new = _new_node(node_type, text, _new_id(node_type, _all_ids(work)))
        if parent.get("type") == "decision":
            children = parent.setdefault("children", [])
            if not isinstance(children, list):
                raise refuse("The children list is broken; repair it under Advanced: edit JSON.")
            if option_index is not None:
                _option_at(parent, option_index)["next_node_id"] = new["id"]
            elif option_label:
                _add_option(parent, _clean_label(parent, option_label), new["id"])
            children.append(new)
        elif parent.get("type") == "action":
            if place.siblings is None:
                raise refuse("The root must be a decision; repair it under Advanced: edit JSON.")
            old_next = parent.get("next_node_id")
            if node_type == "action" and old_next:
                new["next_node_id"] = old_next
            place.siblings.insert(place.index + 1, new)
            parent["next_node_id"] = new["id"]
        else:
            raise refuse(
                "A solution ends the flow; add the node to a decision or after an action.",
                node_id=parent_id,
            )
        return new["id"], f"Added the {node_type} “{_short(text)}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_option_add(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    node_id: str,
    label: str,
    next_node_id: str = "",
) -> Edited:
    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        target = _clean_target(work, node_id, next_node_id, "next_node_id")
        _add_option(node, _clean_label(node, label), target)
        return node_id, f"Added the option “{_short(label.strip())}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_node_attach(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    node_id: str,
    from_id: str,
    label: str = "",
) -> Edited:
    """Connect a node nothing leads to: a new answer of decision `from_id` (labelled `label`)
    leads to it, or action `from_id` continues with it. The node stays where it sits."""

    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        if not isinstance(from_id, str) or not from_id:
            raise refuse("Choose the question or action that leads here.", field="from_id")
        source = _find(work, from_id).node
        if source.get("type") == "decision":
            _add_option(source, _clean_label(source, label), node_id)
            how = f"the answer “{_short(label.strip())}” of “{_heading(source)}”"
        elif source.get("type") == "action":
            if label.strip():  # an action has no answers: say so rather than drop the label
                raise refuse(
                    f"“{_heading(source)}” is an action: it has no answers to label. "
                    "Clear the label, or choose a question.",
                    field="label",
                )
            source["next_node_id"] = node_id
            how = f"“{_heading(source)}”"
        else:
            raise refuse("Only a question or an action can lead to a node.", field="from_id")
        return node_id, f"“{_heading(node)}” is now reached from {how}."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_option_update(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    node_id: str,
    index: int,
    label: str,
    next_node_id: str,
) -> Edited:
    """Rename an option and choose where it leads (any node; loops are allowed)."""

    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        option = _option_at(node, index)
        option["label"] = _clean_label(node, label, skip=index)
        option["next_node_id"] = _clean_target(work, node_id, next_node_id, "next_node_id") or ""
        return node_id, f"Saved the option “{option['label']}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_option_move(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    node_id: str,
    index: int,
    direction: Direction | None = None,
    to: int | None = None,
) -> Edited:
    """Reorder a decision's options (the order the engineer sees them in)."""
    _destination(0, 1, direction, to)

    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        _option_at(node, index)
        options = _options(node)
        _move_item(options, index, _destination(index, len(options), direction, to))
        return node_id, ""

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_option_remove(
    *, tree: Tree, user: User, revision: int | None, node_id: str, index: int
) -> Edited:
    """Remove an option; the node it led to stays (it may be reached another way)."""

    def apply(work: Working) -> Outcome:
        node = _find(work, node_id).node
        label = _option_at(node, index).get("label", "")
        del _options(node)[index]
        return node_id, f"Removed the option “{_short(label)}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


# --- checklists -----------------------------------------------------------------------------

STEP_KINDS = ("section_header", "procedure_step")


def _is_end(step: Any) -> bool:
    return isinstance(step, dict) and step.get("type") == "procedure_end"


def _keep_end_last(work: Working) -> None:
    """Every checklist finishes with its end step: add one when missing, keep it last."""
    steps = work.structure.get("steps") if isinstance(work.structure, dict) else None
    if not isinstance(steps, list):
        return
    ends = [step for step in steps if _is_end(step)]
    if not ends:
        taken = _all_ids(work)
        steps.append(
            {"id": _new_id("procedure_end", taken), "type": "procedure_end", "title": "Done"}
        )
        return
    steps[:] = [step for step in steps if not _is_end(step)] + ends


def tree_step_add(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    step_type: str,
    title: str,
    after_id: str | None = None,
) -> Edited:
    """Add a section header or a step after `after_id`, else at the end (before the end step)."""
    if step_type not in STEP_KINDS:
        raise refuse("Add a step or a section header.", field="step_type")
    if not isinstance(title, str) or not title.strip():
        raise refuse("Give it a title.", field="title")
    title = title.strip()

    def apply(work: Working) -> Outcome:
        steps = _steps(work)
        new = {"id": _new_id(step_type, _all_ids(work)), "type": step_type, "title": title}
        if after_id:
            position = _find(work, after_id).index + 1
        else:  # after the last real step; the end step is put back last below
            position = 1 + max((i for i, step in enumerate(steps) if not _is_end(step)), default=-1)
        steps.insert(position, new)
        noun = nodes.NODE_TYPES_BY_NAME[step_type].noun
        return new["id"], f"Added the {noun} “{_short(title)}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


# --- intake form ----------------------------------------------------------------------------


def _intake(work: Working) -> list:
    if work.intake_form is None:
        work.intake_form = []
    if not isinstance(work.intake_form, list):
        raise refuse("The intake form is broken; repair it under Advanced: edit JSON.")
    return work.intake_form


def _intake_field(
    *, name: Any, label: Any, field_type: Any, required: bool, options: Iterable[str]
) -> dict[str, Any]:
    """One intake field, checked on its own by the one validator."""
    field: dict[str, Any] = {
        "name": name.strip() if isinstance(name, str) else name,
        "label": label.strip() if isinstance(label, str) else label,
        "type": field_type,
        "required": bool(required),
    }
    typed = [o.strip() for o in options if isinstance(o, str) and o.strip()]
    if field_type == "select":
        field["options"] = typed
    elif typed:  # options of a text question would be dropped: say so instead
        choice = dict(nodes.INTAKE_TYPE_TABLE)["select"]
        raise refuse(
            f"Only a “{choice}” question has options: choose that type, or clear them.",
            field="options",
        )
    errors = structure.validate_intake_form([field])
    if errors:
        raise EditRefused([StructureError(None, e.field, e.message) for e in errors])
    return field


def _check_unique_name(form: list, name: str, *, skip: int | None = None) -> None:
    for index, item in enumerate(form):
        if index != skip and isinstance(item, dict) and item.get("name") == name:
            raise refuse(f"Another question is already named “{name}”.", field="name")


def _intake_index(form: list, index: Any) -> int:
    if type(index) is not int or not 0 <= index < len(form):
        raise refuse("That question does not exist any more; the editor now shows the latest.")
    return index


def tree_intake_field_add(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    name: str,
    label: str,
    field_type: str,
    required: bool = False,
    options: Iterable[str] = (),
) -> Edited:
    """Add a question asked when a session starts; its answer fills [VAR:name]."""
    field = _intake_field(
        name=name, label=label, field_type=field_type, required=required, options=options
    )

    def apply(work: Working) -> Outcome:
        form = _intake(work)
        _check_unique_name(form, field["name"])
        form.append(field)
        return None, f"Added the question “{_short(field['label'])}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_intake_field_update(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    index: int,
    name: str,
    label: str,
    field_type: str,
    required: bool = False,
    options: Iterable[str] = (),
) -> Edited:
    field = _intake_field(
        name=name, label=label, field_type=field_type, required=required, options=options
    )

    def apply(work: Working) -> Outcome:
        form = _intake(work)
        position = _intake_index(form, index)
        _check_unique_name(form, field["name"], skip=position)
        form[position] = field
        return None, f"Saved the question “{_short(field['label'])}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_intake_field_remove(*, tree: Tree, user: User, revision: int | None, index: int) -> Edited:
    def apply(work: Working) -> Outcome:
        form = _intake(work)
        removed = form.pop(_intake_index(form, index))
        label = removed.get("label") if isinstance(removed, dict) else None
        return None, f"Removed the question “{_short(label or 'untitled')}”."

    return _change(tree=tree, user=user, revision=revision, apply=apply)


def tree_intake_field_move(
    *,
    tree: Tree,
    user: User,
    revision: int | None,
    index: int,
    direction: Direction | None = None,
    to: int | None = None,
) -> Edited:
    """Reorder the intake questions: up/down with the buttons, or to ``to`` when dragged."""
    _destination(0, 1, direction, to)

    def apply(work: Working) -> Outcome:
        form = _intake(work)
        position = _intake_index(form, index)
        _move_item(form, position, _destination(position, len(form), direction, to))
        return None, ""

    return _change(tree=tree, user=user, revision=revision, apply=apply)


# --- a pull's "edit" choice -----------------------------------------------------------------


def node_edit_clean(
    *, tree_type: str, structure: Any, node: dict, edit: Any, user: User, other_ids: Any = ()
) -> dict[str, Any]:
    """The owner's merged content for a conflicting node (pulling a parent's changes), checked
    by the rules of an edit in the editor. The node keeps its id and type; its editable fields
    are set from `edit` (an absent one is emptied); the rest may not change here. Every field's
    problem is reported, named by the field (`EditRefused`)."""
    node_id = node.get("id")
    kind = nodes.node_type(node.get("type"))
    if not isinstance(edit, dict):
        raise refuse("Send the node's fields as an object.", node_id=node_id)
    if kind is None:
        raise refuse("This node has an unknown type; keep one side instead.", node_id=node_id)
    errors: list[StructureError] = []
    for key in ("id", "type"):
        if key in edit and edit[key] != node.get(key):
            errors.append(StructureError(node_id, key, f"The {key} cannot be changed here."))
    for key, value in edit.items():
        if key not in (*kind.editable, "id", "type", "children") and value != node.get(key):
            message = f"{key} cannot be changed here: keep one side, then change it in the editor."
            errors.append(StructureError(node_id, key, message))
    work = Working(tree_type, structure, None, frozenset(other_ids))
    result = nodes.copy_json({k: v for k, v in node.items() if k != "children"})
    for key in kind.editable:
        try:
            _check_public_step(user, node, {key: edit.get(key)})
            _set_fields(work, result, {key: edit.get(key)})
        except EditRefused as refused:
            errors += refused.errors
    if errors:
        raise EditRefused(errors)
    return result


def intake_edit_clean(*, name: str, edit: Any) -> dict[str, Any]:
    """The owner's merged version of a conflicting intake question (same rules as the intake
    editor); its variable name stays."""
    if not isinstance(edit, dict):
        raise refuse("Send the question's fields as an object.")
    if "name" in edit and edit["name"] != name:
        raise refuse("The variable name cannot be changed here.", field="name")
    options = edit.get("options") or []
    if isinstance(options, str):
        options = options.splitlines()
    if not isinstance(options, list):
        raise refuse("options must be a list of text.", field="options")
    required = edit.get("required", False)
    if not isinstance(required, bool):
        raise refuse("required must be true or false.", field="required")
    return _intake_field(
        name=name,
        label=edit.get("label"),
        field_type=edit.get("type"),
        required=required,
        options=options,
    )
