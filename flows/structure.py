"""Parse, normalise and validate flow structures (``tree_structure``) and intake forms.

This is the one place that validates the flow JSON formats (SPEC §3.1, §3.2), whose node types
and fields are defined in ``flows/nodes.py``; forms, serializers, the publish service and the
importer all call it, so it imports nothing from Django.

Everything here is written for hostile input: traversals use explicit stacks (a 10,000-deep
document cannot raise ``RecursionError``), validators never raise on bad shapes, and the number
of errors reported is capped.
"""

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flows import nodes
from flows.nodes import (  # the format's constants live in flows/nodes.py; re-exported here
    CONTENT_TYPES,  # noqa: F401
    INTAKE_TYPES,
    LIBRARY_VISIBILITIES,  # noqa: F401
    MAX_ID_LEN,
    MAX_TEXT,
    NODE_TYPES,  # noqa: F401
    STEP_TREE_TYPES,
    STEP_TYPES,  # noqa: F401
    TREE_TYPES,
)
from flows.nodes import copy_json as _copy_json
from resolutionflow.errors import ServiceError
from resolutionflow.text import printable, problems_in_json

MAX_NODES = 2000
MAX_DEPTH = 100
MAX_JSON_BYTES = 2_000_000
MAX_OPTIONS = 50
MAX_INTAKE_FIELDS = 50
MAX_ERRORS = 200

_ID_RE = re.compile(r"[A-Za-z0-9._-]+")
_VAR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_VAR_RE = re.compile(r"\[VAR:([A-Za-z0-9_-]+)\]")


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StructureError:
    """One problem, placed on a node (or the whole document when ``node_id`` is None)."""

    node_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        node = f"[node {self.node_id}] " if self.node_id is not None else ""
        field = f"{self.field}: " if self.field else ""
        return f"{node}{field}{self.message}"


class StructureInvalid(ServiceError, ValueError):
    """Raised where a caller needs an exception rather than a list; carries ``errors``."""

    code = "invalid_structure"
    detail = "The flow structure is not valid."

    def __init__(self, errors: list[StructureError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors) or "Invalid structure.")

    def payload(self) -> dict[str, Any]:
        errors = [
            {"node_id": e.node_id, "field": e.field, "message": e.message} for e in self.errors
        ]
        return {"detail": self.detail, "code": self.code, "errors": errors}


class _TooManyErrors(Exception):
    """Stops a validation run once the error cap is reached."""


class _Errors:
    """Collects errors and cuts the run short after ``limit`` so hostile input stays cheap."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.items: list[StructureError] = []
        self.limit = limit

    def add(self, node_id: str | None, field: str | None, message: str) -> None:
        if len(self.items) >= self.limit:
            note = f"Too many errors; only the first {self.limit} are shown."
            self.items.append(StructureError(None, None, note))
            raise _TooManyErrors
        # Messages quote what was sent; text the database cannot hold is spelled as escapes.
        node_id = None if node_id is None else printable(node_id)
        field = None if field is None else printable(field)
        self.items.append(StructureError(node_id, field, printable(message)))


def _collect(check: Callable[[_Errors], None]) -> list[StructureError]:
    out = _Errors()
    with contextlib.suppress(_TooManyErrors):  # the cap was hit; the note is already added
        check(out)
    return out.items


# --- small helpers --------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """Name a JSON value's type the way a flow author would read it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _q(value: Any, limit: int = 60) -> str:
    """Quote a user value for a message, shortened so messages stay readable.

    Containers are named, not printed: str() of a deeply nested list recurses.
    """
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        return _kind(value)
    return f"'{text[:limit]}…'" if len(text) > limit else f"'{text}'"


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_content(value: Any) -> bool:
    """True unless the value is absent or empty; "no children" may be written as []."""
    return value not in (None, "", [], {})


def _display_id(node: Any) -> str | None:
    """The id errors are filed under: a usable string id, else None (refer by position)."""
    node_id = node.get("id") if isinstance(node, dict) else None
    if isinstance(node_id, str) and node_id and len(node_id) <= MAX_ID_LEN:
        return node_id
    return None


@dataclass(frozen=True)
class _Ref:
    """How errors refer to a node: by id when it has one, otherwise by its position.

    ``title`` is the node's heading (its question or title) when it has one: messages meant
    for authors name the node by it, the way the editor shows it (``who``)."""

    node_id: str | None
    position: str
    title: str = ""
    is_root: bool = False
    number: int | None = None  # a checklist step's place, counted from 1

    def name(self, noun: str) -> str:
        # With an id the error already says which node; without one, the position does.
        return noun if self.node_id else f"{noun} at {self.position}"

    def who(self, noun: str) -> str:
        """'Is the VDA registered?', else "The first question", "Step 3" or "A decision"."""
        if self.title:
            return _q(self.title)
        if self.is_root:
            return "The first question"
        if self.number is not None:
            return f"Step {self.number}" if noun == "step" else f"The {noun} at step {self.number}"
        if not self.node_id:
            return f"The {noun} at {self.position}"
        return f"{'An' if noun[:1] in 'aeiou' else 'A'} {noun}"


def _title(node: Any) -> str:
    """A node's heading for messages: its question or title, never its id."""
    return nodes.heading(node, fallback="", with_id=False).strip()


# --- traversal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Visit:
    node: Any  # may be a non-dict when the document is malformed
    depth: int  # the root is depth 1
    parent_id: str | None
    index: int | None  # position in the parent's children list; None for the root

    @property
    def position(self) -> str:
        if self.index is None:
            return "the root"
        parent = _q(self.parent_id) if self.parent_id else "an unnamed node"
        return f"children[{self.index}] of {parent}"

    @property
    def ref(self) -> _Ref:
        return _Ref(
            _display_id(self.node), self.position, _title(self.node), is_root=self.index is None
        )


def _walk_tree(root: Any, *, max_depth: int | None = None) -> Iterator[_Visit]:
    """``nodes.walk_tree`` with what errors need: 1-based depth and the parent's id.

    With ``max_depth`` the walk still yields nodes one level too deep (so they can be
    reported) but goes no further.
    """
    limit = None if max_depth is None else max_depth - 1  # nodes.walk counts the root as 0
    for visit in nodes.walk_tree(root, malformed=True, max_depth=limit):
        parent_id = _display_id(visit.parent) if visit.parent is not None else None
        yield _Visit(visit.node, visit.depth + 1, parent_id, visit.index)


def _steps(data: Any) -> list[Any]:
    steps = data.get("steps") if isinstance(data, dict) else None
    return steps if isinstance(steps, list) else []


def _walk_fields(
    container: dict, *, skip: str, max_depth: int = MAX_DEPTH
) -> Iterator[tuple[str, Any, int]]:
    """Every value inside a node's own fields as (path, value, depth), e.g. "options[1].label".

    The ``skip`` key (children / steps) is left out: those are nodes, walked separately.
    Values nested deeper than ``max_depth`` are yielded but not entered.
    """
    stack = [(_key(key), value, 1) for key, value in reversed(container.items()) if key != skip]
    seen: set[int] = set()
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if depth > max_depth or not isinstance(value, dict | list) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            items = [(f"{path}.{_key(k)}", v) for k, v in value.items()]
        else:
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        stack.extend((p, v, depth + 1) for p, v in reversed(items))


def _key(key: Any) -> str:
    return str(key)[:MAX_ID_LEN]


def iter_nodes(tree_type: str, data: Any) -> Iterator[dict]:
    """Every node dict in document order (troubleshooting: depth-first through children)."""
    yield from (visit.node for visit in nodes.walk(tree_type, data))


def node_index(tree_type: str, data: Any) -> dict[str, dict]:
    """Map id -> node; the first node wins when ids repeat (validation reports the rest)."""
    index: dict[str, dict] = {}
    for node in iter_nodes(tree_type, data):
        node_id = node.get("id")
        if isinstance(node_id, str) and node_id:
            index.setdefault(node_id, node)
    return index


# --- variables ------------------------------------------------------------------------------


def variables_used(tree_type: str, data: Any) -> set[str]:
    """Names used as [VAR:name] in any text of any node (commands included)."""
    names: set[str] = set()
    for node in iter_nodes(tree_type, data):
        for _path, value, _depth in _walk_fields(node, skip="children"):
            if isinstance(value, str):
                names.update(_VAR_RE.findall(value))
    return names


def fill_variables(text: str, values: dict[str, str]) -> str:
    """Replace [VAR:name] with its value; unknown (or unanswered) names stay visible as is."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)

    return _VAR_RE.sub(replace, text)


# --- parsing and normalising ----------------------------------------------------------------


def _invalid(message: str) -> StructureInvalid:
    return StructureInvalid([StructureError(None, None, message)])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str | bytes, max_bytes: int) -> str:
    """Check the size before any parsing work, then return text without a BOM."""
    too_large = _invalid(f"The JSON is larger than the limit of {max_bytes:,} bytes.")
    if isinstance(text, bytes | bytearray):
        if len(text) > max_bytes:
            raise too_large
        try:
            return bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _invalid(f"The JSON is not valid UTF-8 (byte {exc.start}).") from exc
    if isinstance(text, str):
        # Every character is at least one byte, so the cheap length test comes first.
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise too_large
        return text.removeprefix("\ufeff")
    raise _invalid(f"Expected JSON text, not {type(text).__name__}.")


def parse_json(text: str | bytes, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse uploaded/pasted JSON; any failure is a StructureInvalid with one clear error."""
    raw = _decode(text, max_bytes)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        message = f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        raise _invalid(message) from exc
    except RecursionError as exc:
        raise _invalid("The JSON is nested too deeply to read.") from exc
    except ValueError as exc:  # NaN/Infinity, integers too long to convert
        raise _invalid(f"Invalid JSON: {exc}.") from exc


def normalise_commands(value: Any) -> list[dict[str, str]]:
    """Commands in their one list form; lenient for reading (junk items are dropped)."""
    if isinstance(value, str):
        return [_command(code=value)] if value.strip() else []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    commands = []
    for item in value:
        if isinstance(item, str) and item.strip():
            commands.append(_command(code=item))
        elif isinstance(item, dict) and isinstance(item.get("code", ""), str):
            commands.append(
                _command(
                    code=item.get("code", ""),
                    language=item.get("language"),
                    label=item.get("label"),
                )
            )
    return commands


def _command(*, code: str, language: Any = None, label: Any = None) -> dict[str, str]:
    return {
        "language": language if isinstance(language, str) and language else "shell",
        "label": label if isinstance(label, str) else "",
        "code": code,
    }


def normalise_structure(tree_type: str, data: Any) -> Any:
    """A deep copy with every node's commands in list form; anything else is left as is."""
    copy = _copy_json(data)
    for node in iter_nodes(tree_type, copy):
        if "commands" in node:
            node["commands"] = normalise_commands(node["commands"])
    return copy


def empty_structure(tree_type: str) -> dict:
    """The starting point of a new draft (valid as a draft, not yet publishable)."""
    if tree_type == "troubleshooting":
        return {"id": "root", "type": "decision", "question": "", "options": [], "children": []}
    if tree_type in STEP_TREE_TYPES:
        return {"steps": [{"id": "end", "type": "procedure_end", "title": "Done"}]}
    raise StructureInvalid([_unknown_tree_type(tree_type)])


def _unknown_tree_type(tree_type: Any) -> StructureError:
    expected = ", ".join(TREE_TYPES)
    return StructureError(
        None, "tree_type", f"Unknown flow type {_q(tree_type)}; expected {expected}."
    )


# --- size bounds (drafts and publish) -------------------------------------------------------


def _check_values(container: dict, ref: _Ref, skip: str, out: _Errors) -> None:
    """Text length and nesting inside one node's fields; ids have their own, shorter limit."""
    for path, value, depth in _walk_fields(container, skip=skip):
        if depth > MAX_DEPTH:
            out.add(ref.node_id, path, f"Value is nested more than {MAX_DEPTH} levels deep.")
        elif isinstance(value, str) and path != "id" and len(value) > MAX_TEXT:
            size = f"{len(value):,} characters long; the limit is {MAX_TEXT:,}"
            out.add(ref.node_id, path, f"Text is {size}.")


def _check_node_bounds(node: dict, ref: _Ref, out: _Errors) -> None:
    node_id = node.get("id")
    if isinstance(node_id, str) and len(node_id) > MAX_ID_LEN:
        size = f"{len(node_id):,} characters long; the limit is {MAX_ID_LEN}"
        out.add(None, "id", f"The id of the node at {ref.position} is {size}.")
    options = node.get("options")
    if isinstance(options, list) and len(options) > MAX_OPTIONS:
        out.add(ref.node_id, "options", f"There are more than {MAX_OPTIONS} options.")
    _check_values(node, ref, "children", out)


def _check_tree_bounds(root: dict, out: _Errors) -> None:
    for count, visit in enumerate(_walk_tree(root, max_depth=MAX_DEPTH), start=1):
        if count > MAX_NODES:
            out.add(None, None, f"The flow has more than {MAX_NODES} nodes.")
            return
        ref = visit.ref
        if visit.depth > MAX_DEPTH:
            too_deep = f"is nested more than {MAX_DEPTH} levels deep"
            out.add(ref.node_id, None, f"{ref.name('Node')} {too_deep}.")
        if isinstance(visit.node, dict):
            _check_node_bounds(visit.node, ref, out)


def _check_steps_bounds(data: dict, out: _Errors) -> None:
    _check_values(data, _Ref(None, "the top level"), "steps", out)
    steps = _steps(data)
    if len(steps) > MAX_NODES:
        out.add(None, "steps", f"The flow has more than {MAX_NODES} steps.")
        return
    for index, step in enumerate(steps):
        if isinstance(step, dict):
            _check_node_bounds(step, _Ref(_display_id(step), f"steps[{index}]"), out)


# --- rules shared by both kinds -------------------------------------------------------------


# The node types, which of their fields are text, links, minutes or choices, and what each must
# hold at publish all come from the format table (flows/nodes.py).
_TREE_RULES = {t.name: t for t in nodes.NODE_TYPE_TABLE if t.family == "troubleshooting"}
_STEP_RULES = {t.name: t for t in nodes.NODE_TYPE_TABLE if t.family == "steps"}
_Rules = dict[str, nodes.NodeType]


# Every save checks the shape (ids, types, kinds of values, links in id form, URL schemes), so
# whatever is stored can be rendered, edited and run; publishing adds completeness (required
# text, options with targets, links that resolve, reachability, one end).

MAX_MINUTES = nodes.MAX_MINUTES
_ID_CHARS = "letters, digits, '-', '_' and '.'"
# A field is its kind wherever it appears, whatever the node's type (drafts change type).
_TEXT_KEYS = nodes.field_names("text", "longtext", "url")
_URL_KEYS = nodes.field_names("url")
_MINUTES_KEYS = nodes.field_names("minutes")
_STEP_CHOICES = {name: spec.values for name, spec in nodes.CHOICE_FIELDS.items()}


def _is_node_id(value: str) -> bool:
    """Ids end up in URLs: slug characters, within the length limit, and never only dots."""
    return len(value) <= MAX_ID_LEN and bool(_ID_RE.fullmatch(value)) and value.strip(".") != ""


def _check_id(node: dict, ref: _Ref, out: _Errors) -> None:
    value = node.get("id")
    if value is None or value == "":
        out.add(None, "id", f"{ref.name('Node')} has no id.")
    elif not isinstance(value, str):
        out.add(
            None, "id", f"The id of the node at {ref.position} must be text, not {_kind(value)}."
        )
    elif len(value) <= MAX_ID_LEN and not _is_node_id(value):  # too long: a size error
        message = f"Node id {_q(value)} may only contain {_ID_CHARS}, and not dots alone."
        out.add(ref.node_id, "id", message)


def _check_type(node: dict, ref: _Ref, rules: _Rules, out: _Errors) -> str | None:
    """Report a missing or unknown type; return the type when it is known."""
    value = node.get("type")
    expected = ", ".join(rules)
    if _is_blank(value):
        out.add(ref.node_id, "type", f"{ref.name('Node')} has no type; expected one of {expected}.")
        return None
    if not isinstance(value, str) or value not in rules:
        out.add(ref.node_id, "type", f"Unknown node type {_q(value)}; expected one of {expected}.")
        return None
    return value


# What a message calls a structural field, and what to write into a required one.
_PLAIN_FIELDS = {"options": "answers", "children": "nested nodes", "next_node_id": "next step"}
_WRITE_HINTS = {"question": "write what the engineer is asked", "title": "give it a title"}


def _check_required(node: dict, ref: _Ref, rule: nodes.NodeType, out: _Errors) -> None:
    """Publish only: the type's required text is written, and its forbidden fields are empty."""
    who = ref.who(rule.noun)
    for key in rule.required_text:
        if _is_blank(node.get(key)):
            spec = rule.field(key)
            label = spec.label.lower() if spec else key
            hint = _WRITE_HINTS.get(key, "fill it in")
            if ref.is_root and key == "question":
                out.add(ref.node_id, key, f"The first question is empty: {hint} first.")
            else:
                out.add(ref.node_id, key, f"{who} has no {label}: {hint}.")
    for key in rule.forbidden:
        if _has_content(node.get(key)):
            plain = _PLAIN_FIELDS.get(key, key)
            article = "an" if rule.noun[:1] in "aeiou" else "a"
            message = f"{who} is {article} {rule.noun}, which cannot have {plain}: remove them."
            if rule.name == "solution":
                message = f"{who} is a solution, so the flow ends there: remove its {plain}."
            out.add(ref.node_id, key, message)


def _check_fields(node: dict, ref: _Ref, out: _Errors) -> None:
    """The kind of every field the format knows, on any node: text is text, choices are known,
    minutes are whole and in range, links are http(s), commands have their shape."""
    for key, value in node.items():
        if key in _TEXT_KEYS and value is not None and not isinstance(value, str):
            out.add(ref.node_id, key, f"{key} must be text, not {_kind(value)}.")
    for key, allowed in _STEP_CHOICES.items():
        value = node.get(key)
        if value not in (None, "") and (not isinstance(value, str) or value not in allowed):
            out.add(
                ref.node_id, key, f"{key} must be one of {', '.join(allowed)}, not {_q(value)}."
            )
    for key in _MINUTES_KEYS & node.keys():
        minutes = node[key]
        if minutes is not None and (type(minutes) is not int or not 0 <= minutes <= MAX_MINUTES):
            limit = f"0 or more (at most {MAX_MINUTES:,})"
            out.add(ref.node_id, key, f"{key} must be a whole number, {limit}, not {_q(minutes)}.")
    for key in _URL_KEYS & node.keys():
        url = node[key]
        if isinstance(url, str) and url and not nodes.is_http_url(url):
            out.add(ref.node_id, key, f"{key} must start with http:// or https://.")
    _check_commands(node, ref, out)


def _check_commands(node: dict, ref: _Ref, out: _Errors) -> None:
    """Commands: plain text, or a list of {language, code, label} with text code."""
    value = node.get("commands")
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        shape = "text or a list of {language, code, label} objects"
        out.add(ref.node_id, "commands", f"commands must be {shape}, not {_kind(value)}.")
        return
    for index, item in enumerate(value):
        field = f"commands[{index}]"
        if not isinstance(item, dict):
            out.add(ref.node_id, field, f"{field} must be an object with code, not {_kind(item)}.")
        elif "code" not in item:
            out.add(ref.node_id, field, f"{field} has no code.")
        else:
            for key in ("code", "language", "label"):
                part = item.get(key)
                if (key == "code" or part is not None) and not isinstance(part, str):
                    out.add(
                        ref.node_id, f"{field}.{key}", f"{key} must be text, not {_kind(part)}."
                    )


def _check_unique_id(node: dict, seen: set[str], out: _Errors) -> None:
    node_id = node.get("id")
    if not isinstance(node_id, str) or not node_id:
        return
    if node_id in seen:
        out.add(_display_id(node), "id", f"Duplicate node id {_q(node_id)}; ids must be unique.")
    seen.add(node_id)


def _check_node(node: dict, ref: _Ref, rules: _Rules, out: _Errors, complete: bool) -> str | None:
    """The checks every node gets; returns its type when known, for type-specific checks."""
    _check_id(node, ref, out)
    node_type = _check_type(node, ref, rules, out)
    _check_fields(node, ref, out)
    if node_type is not None and complete:
        _check_required(node, ref, rules[node_type], out)
    return node_type


# --- troubleshooting rules ------------------------------------------------------------------


def _option_name(index: int, option: dict) -> str:
    """ "answer 'No'", or "answer 2" while it has no label."""
    label = option.get("label")
    return (
        f"answer {_q(label)}" if isinstance(label, str) and label.strip() else f"answer {index + 1}"
    )


def _check_target(ref: _Ref, field: str, target: Any, missing: str | None, out: _Errors) -> None:
    """A link: empty (reported as ``missing`` when publishing), else text in the form of an id.
    Whether it resolves is a publish rule."""
    if target is None or target == "" or (missing and _is_blank(target)):
        if missing:
            out.add(ref.node_id, field, missing)
    elif not isinstance(target, str):
        out.add(ref.node_id, field, f"next_node_id must be text, not {_kind(target)}.")
    elif not _is_node_id(target):
        message = f"next_node_id {_q(target)} is not a node id ({_ID_CHARS})."
        out.add(ref.node_id, field, message)


def _check_option(
    index: int, option: Any, ref: _Ref, labels: set[str], out: _Errors, complete: bool
) -> None:
    field = f"options[{index}]"
    if not isinstance(option, dict):
        message = f"Option {index + 1} must be an object with label and next_node_id."
        out.add(ref.node_id, field, f"{message} Found {_kind(option)}.")
        return
    name = f"{ref.who('decision')} → {_option_name(index, option)}"
    label, target = option.get("label"), option.get("next_node_id")
    if label is None or (complete and _is_blank(label)):
        out.add(ref.node_id, f"{field}.label", f"{name} has no label: name the answer, e.g. 'Yes'.")
    elif not isinstance(label, str):
        out.add(ref.node_id, f"{field}.label", f"label must be text, not {_kind(label)}.")
    elif complete and label.strip().casefold() in labels:
        twice = f"has two answers labelled {_q(label.strip())}: rename one"
        out.add(ref.node_id, f"{field}.label", f"{ref.who('decision')} {twice}.")
    else:
        labels.add(label.strip().casefold())
    missing = f"{name} leads nowhere: pick the next step." if complete else None
    _check_target(ref, f"{field}.next_node_id", target, missing, out)


def _check_tree_node(node: dict, ref: _Ref, node_type: str | None, out: _Errors, complete: bool):
    """Options, children and next_node_id: their shape on any node, completeness by type."""
    options = node.get("options")
    if options is None or options == []:
        if complete and node_type == "decision":
            add = "add at least one, e.g. 'Yes' and 'No', and pick where each leads"
            out.add(ref.node_id, "options", f"{ref.who('decision')} has no answers yet: {add}.")
    elif not isinstance(options, list):
        out.add(ref.node_id, "options", f"options must be a list, not {_kind(options)}.")
    else:
        labels: set[str] = set()
        for index, option in enumerate(options):
            _check_option(index, option, ref, labels, out, complete and node_type == "decision")
    children = node.get("children")
    if children is not None and not isinstance(children, list):
        out.add(
            ref.node_id, "children", f"children must be a list of nodes, not {_kind(children)}."
        )
    missing = None
    if complete and node_type == "action":
        missing = f"{ref.who('action')} leads nowhere: pick what comes after this action."
    _check_target(ref, "next_node_id", node.get("next_node_id"), missing, out)


def _links(node: dict) -> list[tuple[str, str, str]]:
    """Outgoing links as (field, which, target): a decision's options, an action's next node."""
    node_type, options, target = node.get("type"), node.get("options"), node.get("next_node_id")
    if node_type == "decision" and isinstance(options, list):
        return [
            (f"options[{i}].next_node_id", _option_name(i, option), option["next_node_id"])
            for i, option in enumerate(options)
            if isinstance(option, dict) and isinstance(option.get("next_node_id"), str)
        ]
    if node_type == "action" and isinstance(target, str):
        return [("next_node_id", "", target)]
    return []


def _node_ref(node: dict) -> _Ref:
    return _Ref(_display_id(node), "", _title(node))


def _noun(node: dict) -> str:
    kind = nodes.node_type(node.get("type"))
    return kind.noun if kind else "node"


def _check_links(tree_nodes: list[dict], index: dict[str, dict], out: _Errors) -> None:
    for node in tree_nodes:
        who = _node_ref(node).who(_noun(node))
        for field, which, target in _links(node):
            if target and target not in index:
                source = f"{who} → {which}" if which else who
                gone = f"leads to {_q(target)}, which does not exist: pick the next step"
                out.add(_display_id(node), field, f"{source} {gone}.")


def _reached(root: dict, index: dict[str, dict]) -> set[str] | None:
    """Ids reached from the root through options and next steps; None without a usable root."""
    root_id = root.get("id")
    if not isinstance(root_id, str) or root_id not in index:
        return None
    reached, queue = {root_id}, [root_id]
    while queue:
        for _field, _who, target in _links(index[queue.pop()]):
            if target in index and target not in reached:
                reached.add(target)
                queue.append(target)
    return reached


def unreachable_ids(tree_type: str, data: Any) -> list[str]:
    """Nodes of a troubleshooting tree that no path from the first question reaches, in
    document order (what the editor's repair panel offers to attach or delete)."""
    if tree_type != "troubleshooting" or not isinstance(data, dict):
        return []
    index = node_index(tree_type, data)
    reached = _reached(data, index)
    if reached is None:
        return []
    return [node_id for node_id in index if node_id not in reached]


def _check_reachable(
    root: dict, tree_nodes: list[dict], index: dict[str, dict], out: _Errors
) -> None:
    reached = _reached(root, index)
    if reached is None:
        return  # the root's id problem is already reported
    for node in tree_nodes:
        node_id = node.get("id")
        if isinstance(node_id, str) and node_id in index and node_id not in reached:
            who = _node_ref(node).who(_noun(node))
            fix = "link an answer or an action to it, or delete it"
            out.add(
                _display_id(node), None, f"{who} cannot be reached from the first question: {fix}."
            )


def _validate_tree(root: dict, out: _Errors, complete: bool) -> None:
    tree_nodes: list[dict] = []
    seen_ids: set[str] = set()
    for visit in _walk_tree(root):
        if not isinstance(visit.node, dict):
            field = f"children[{visit.index}]"
            out.add(
                visit.parent_id, field, f"{field} must be a node object, not {_kind(visit.node)}."
            )
            continue
        tree_nodes.append(visit.node)
        node_type = _check_node(visit.node, visit.ref, _TREE_RULES, out, complete)
        _check_unique_id(visit.node, seen_ids, out)
        _check_tree_node(visit.node, visit.ref, node_type, out, complete)
    if not complete:
        return
    root_type = root.get("type")
    if isinstance(root_type, str) and root_type in _TREE_RULES and root_type != "decision":
        label = nodes.node_label(root_type).lower()
        message = f"The first node must be a question (a decision), not a {label}: change its type."
        out.add(_display_id(root), "type", message)
    index = node_index("troubleshooting", root)
    _check_links(tree_nodes, index, out)
    _check_reachable(root, tree_nodes, index, out)
    if not any(node.get("type") == "solution" for node in tree_nodes):
        add = "add at least one solution where the troubleshooting ends"
        out.add(None, None, f"The flow has no solution yet: {add}.")


# --- procedural / maintenance rules ---------------------------------------------------------


def _check_end(steps: list[Any], ends: list[tuple[int, _Ref]], out: _Errors) -> None:
    """Exactly one procedure_end, and it is the last step."""
    if not ends:
        out.add(None, "steps", "The checklist has no end step: add one as the last step.")
        return
    first, first_ref = ends[0]
    for _index, ref in ends[1:]:
        message = f"{ref.who('end step')} is a second end step: a checklist has one; delete it."
        out.add(ref.node_id, "type", message)
    after = steps[first + 1 :]
    if any(not (isinstance(s, dict) and s.get("type") == "procedure_end") for s in after):
        message = f"{first_ref.who('end step')} must be the last step: move the others above it."
        out.add(first_ref.node_id, "type", message)


def _validate_steps(data: dict, out: _Errors, complete: bool) -> None:
    steps = data.get("steps")
    if steps is None:
        out.add(None, "steps", "The flow has no steps list.")
        return
    if not isinstance(steps, list):
        out.add(None, "steps", f"steps must be a list, not {_kind(steps)}.")
        return
    seen_ids: set[str] = set()
    ends: list[tuple[int, _Ref]] = []
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            field = f"steps[{index}]"
            out.add(None, field, f"{field} must be a step object, not {_kind(step)}.")
            continue
        ref = _Ref(_display_id(step), f"steps[{index}]", _title(step), number=index + 1)
        step_type = _check_node(step, ref, _STEP_RULES, out, complete)
        _check_unique_id(step, seen_ids, out)
        if step_type == "procedure_end":
            ends.append((index, ref))
    if not complete:
        return
    _check_end(steps, ends, out)
    if not any(isinstance(s, dict) and s.get("type") == "procedure_step" for s in steps):
        out.add(None, "steps", "The checklist has no steps yet: add at least one step.")


# --- entry points ---------------------------------------------------------------------------

_BOUNDS: dict[str, Callable[[dict, _Errors], None]] = {
    "troubleshooting": _check_tree_bounds,
    "procedural": _check_steps_bounds,
    "maintenance": _check_steps_bounds,
}
_RULES: dict[str, Callable[[dict, _Errors, bool], None]] = {
    "troubleshooting": _validate_tree,
    "procedural": _validate_steps,
    "maintenance": _validate_steps,
}


def validate_structure(
    tree_type: str, data: Any, *, for_publish: bool = True
) -> list[StructureError]:
    """All problems of a structure. Every save checks the shape (``for_publish=False``: what
    is stored must render); publishing also checks that the flow is complete."""
    return _collect(lambda out: _validate(tree_type, data, for_publish, out))


def _check_storable(data: Any, out: _Errors) -> None:
    """No NUL or lone surrogate in any key or string: the database cannot store them."""
    for problem in problems_in_json(data):
        out.add(None, problem.field, problem.message)


def _validate(tree_type: Any, data: Any, for_publish: bool, out: _Errors) -> None:
    if not isinstance(tree_type, str) or tree_type not in TREE_TYPES:
        error = _unknown_tree_type(tree_type)
        out.add(error.node_id, error.field, error.message)
        return
    if not isinstance(data, dict):
        out.add(None, None, f"The flow structure must be a JSON object, not {_kind(data)}.")
        return
    _check_storable(data, out)
    _BOUNDS[tree_type](data, out)
    # A document over the size bounds is not worth (or safe) checking in detail.
    if not out.items:
        _RULES[tree_type](data, out, for_publish)


# --- intake form ----------------------------------------------------------------------------


def validate_intake_form(data: Any) -> list[StructureError]:
    """Problems of an intake form; None counts as "no form". Errors are filed under field names."""
    return _collect(lambda out: _validate_intake(data, out))


def _validate_intake(data: Any, out: _Errors) -> None:
    if data is None:
        return
    if not isinstance(data, list):
        out.add(None, None, f"The intake form must be a list of fields, not {_kind(data)}.")
        return
    if len(data) > MAX_INTAKE_FIELDS:
        out.add(None, None, f"The intake form has more than {MAX_INTAKE_FIELDS} fields.")
        return
    names: set[str] = set()
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            out.add(None, None, f"Field {index + 1} must be an object, not {_kind(item)}.")
            continue
        name = item.get("name")
        ok_name = isinstance(name, str) and 0 < len(name) <= MAX_ID_LEN
        ref = _Ref(name if ok_name else None, str(index + 1))  # "intake question 2"
        _check_intake_name(name, ref, names, out)
        _check_intake_label(item.get("label"), ref, out)
        _check_intake_type(item, ref, out)
        _check_intake_values(item, ref, out)


def _check_intake_values(item: dict, ref: _Ref, out: _Errors) -> None:
    """Whatever else a field holds must be storable and of a size pages can show."""
    for problem in problems_in_json(item):
        out.add(ref.node_id, problem.field, problem.message)
    # name, label and options have their own limits, checked above.
    others = [value for key, value in item.items() if key not in ("name", "label", "options")]
    stack: list[tuple[Any, int]] = [(value, 1) for value in others]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            out.add(ref.node_id, None, f"A value is nested more than {MAX_DEPTH} levels deep.")
            return
        if isinstance(value, str) and len(value) > MAX_TEXT:
            out.add(ref.node_id, None, f"A text is longer than {MAX_TEXT:,} characters.")
            return
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((child, depth + 1) for child in children)


def _check_intake_name(name: Any, ref: _Ref, names: set[str], out: _Errors) -> None:
    if _is_blank(name):
        fix = "give it one, e.g. 'upn', to use as [VAR:upn]"
        out.add(None, "name", f"Intake question {ref.position} has no variable name: {fix}.")
    elif not isinstance(name, str):
        out.add(None, "name", f"The name of intake question {ref.position} must be text.")
    elif len(name) > MAX_ID_LEN:
        out.add(None, "name", f"The name of intake question {ref.position} is too long.")
    elif not _VAR_NAME_RE.fullmatch(name):
        rule = "letters, digits, '_' and '-' (it is used as [VAR:name])"
        out.add(ref.node_id, "name", f"Field name {_q(name)} may only contain {rule}.")
    elif name in names:
        out.add(ref.node_id, "name", f"Two fields are named {_q(name)}.")
    else:
        names.add(name)


def _check_intake_label(label: Any, ref: _Ref, out: _Errors) -> None:
    if _is_blank(label):
        who = f"Intake question {_q(ref.node_id)}" if ref.node_id else "An intake question"
        out.add(ref.node_id, "label", f"{who} has no label: write what the engineer is asked.")
    elif not isinstance(label, str):
        out.add(ref.node_id, "label", f"label must be text, not {_kind(label)}.")
    elif len(label) > MAX_TEXT:
        out.add(ref.node_id, "label", f"The label is longer than {MAX_TEXT:,} characters.")


def _check_intake_type(item: dict, ref: _Ref, out: _Errors) -> None:
    field_type, required, options = item.get("type"), item.get("required"), item.get("options")
    if _is_blank(field_type):
        who = f"Intake question {_q(ref.node_id) if ref.node_id else ref.position}"
        out.add(ref.node_id, "type", f"{who} has no answer type: choose one.")
    elif field_type not in INTAKE_TYPES:
        expected = ", ".join(INTAKE_TYPES)
        out.add(ref.node_id, "type", f"Unknown field type {_q(field_type)}; expected {expected}.")
    if required is not None and not isinstance(required, bool):
        out.add(ref.node_id, "required", f"required must be true or false, not {_kind(required)}.")
    if field_type == "select" and (options is None or options == []):
        who = f"Intake question {_q(ref.node_id)}" if ref.node_id else "An intake question"
        fix = "add at least one option, one per line"
        out.add(ref.node_id, "options", f"{who} is a choice that needs at least one option: {fix}.")
    elif options is not None:
        _check_intake_options(options, ref, out)


def _check_intake_options(options: Any, ref: _Ref, out: _Errors) -> None:
    if not isinstance(options, list):
        out.add(ref.node_id, "options", f"options must be a list of text, not {_kind(options)}.")
        return
    if len(options) > MAX_OPTIONS:
        out.add(ref.node_id, "options", f"There are more than {MAX_OPTIONS} options.")
        return
    for index, option in enumerate(options):
        if not isinstance(option, str) or not option.strip() or len(option) > MAX_TEXT:
            out.add(ref.node_id, f"options[{index}]", f"Option {index + 1} must be non-empty text.")


# --- repair ---------------------------------------------------------------------------------
# Rows saved before the shape rules existed are repaired once (a data migration): whatever the
# rules refuse is coerced where the meaning is clear and dropped where it is not, so the result
# always passes the shape check. Nothing here raises, whatever the input.

_SPECIAL_KEYS = frozenset(
    {"id", "type", "children", "options", "next_node_id", "commands", "estimated_minutes"}
) | frozenset(_STEP_CHOICES)


def _clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """Storable (unstorable characters spelled as escapes) and within ``limit``."""
    return printable(value)[:limit]


def _clean_json(value: Any, depth: int = 1) -> Any:
    """A copy with storable keys and text, text within MAX_TEXT and no nesting past MAX_DEPTH
    (containers at the limit are left empty). ``depth`` is the depth of ``value`` itself."""
    if isinstance(value, str):
        return _clean_text(value)
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack = [(value, root, depth)]
    seen = {id(value)}
    while stack:
        source, target, level = stack.pop()
        if level >= MAX_DEPTH:
            continue  # its items would be too deep
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            child = item
            if isinstance(item, str):
                child = _clean_text(item)
            elif isinstance(item, dict | list):
                if id(item) in seen:
                    continue  # a hand-built cycle; JSON has none
                seen.add(id(item))
                child = {} if isinstance(item, dict) else []
                stack.append((item, child, level + 1))
            if isinstance(target, dict):
                target[printable(str(key))] = child
            else:
                target.append(child)
    return root


def _as_text(value: Any) -> str | None:
    """Text from a scalar (numbers and true/false written out); None for anything else."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _slug(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")[:40].strip("-.")
    return slug if slug and _is_node_id(slug) else ""


class _Ids:
    """Ids for repaired nodes: good ids stay; bad or repeated ones get a new unique id, and
    links to a renamed bad id follow it."""

    def __init__(self, reserved: set[str]) -> None:
        self.reserved = reserved  # every good id in the document, kept for its first owner
        self.claimed: set[str] = set()
        self.renamed: dict[str, str] = {}

    def claim(self, value: Any, fallback: str) -> str:
        if isinstance(value, str) and _is_node_id(value) and value not in self.claimed:
            self.claimed.add(value)
            return value
        candidate = nodes.claim_unique(_slug(value) or fallback, self.claimed | self.reserved)
        self.claimed.add(candidate)
        if isinstance(value, str) and not _is_node_id(value):
            self.renamed.setdefault(value, candidate)
        return candidate

    def target(self, value: Any) -> str | None:
        """A link after repair: kept, following a rename, or cleared."""
        if value is None or value == "":
            return value
        if isinstance(value, str) and value in self.renamed:
            return self.renamed[value]
        if isinstance(value, str) and _is_node_id(value):
            return value
        return ""


@dataclass
class _Repair:
    rules: _Rules
    ids: _Ids
    # (holder, raw target, value when empty): links are fixed once every id is known.
    links: list[tuple[dict, Any, str | None]]

    def node(self, source: dict, node: dict) -> dict:
        """Fill ``node`` (empty) with the repaired fields of ``source``; links are set later."""
        for key, value in source.items():
            if key in _SPECIAL_KEYS:
                self._special(node, key, value)
            elif key in _TEXT_KEYS:
                text = None if value is None else _as_text(value)
                if value is None or (text is not None and (key not in _URL_KEYS or _url(text))):
                    node[key] = text
            else:
                node[printable(str(key))] = _clean_json(value)
        node["id"] = self.ids.claim(source.get("id"), self._fallback(source))
        node["type"] = _repaired_type(source, self.rules)
        return node

    def _fallback(self, source: dict) -> str:
        node_type = source.get("type")
        return node_type if isinstance(node_type, str) and node_type in self.rules else "node"

    def _special(self, node: dict, key: str, value: Any) -> None:
        if key in ("id", "type", "children"):
            node[key] = None  # placeholders keep the key order; set by the caller
        elif key == "next_node_id":
            node[key] = None
            self.links.append((node, value, None))
        elif key == "options":
            if value is None:
                node[key] = None
            elif isinstance(value, list):
                node[key] = [self._option(o) for o in value if isinstance(o, dict)][:MAX_OPTIONS]
        elif key == "commands":
            if isinstance(value, str):
                node[key] = _clean_text(value)
            elif value is not None:
                node[key] = _clean_json(normalise_commands(value))
        elif key == "estimated_minutes":
            node.update(_minutes(value))
        elif value in (None, "") or (isinstance(value, str) and value in _STEP_CHOICES[key]):
            node[key] = value

    def _option(self, source: dict) -> dict:
        option = {printable(str(k)): _clean_json(v, 3) for k, v in source.items()}
        option["label"] = _as_text(source.get("label")) or ""
        option["next_node_id"] = ""
        self.links.append((option, source.get("next_node_id"), ""))
        return option

    def finish(self) -> None:
        for holder, raw, empty in self.links:
            target = self.ids.target(raw)
            holder["next_node_id"] = empty if target is None else target


def _url(text: str) -> bool:
    return not text or nodes.is_http_url(text)


def _minutes(value: Any) -> dict[str, Any]:
    if value is None:
        return {"estimated_minutes": None}
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return {}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return {}
    return {"estimated_minutes": min(max(round(value), 0), MAX_MINUTES)}


def _repaired_type(source: dict, rules: _Rules) -> str:
    node_type = source.get("type")
    if isinstance(node_type, str) and node_type in rules:
        return node_type
    if rules is _STEP_RULES:
        return "procedure_step"
    # Guess from what the node holds, so its content stays where an author can see it.
    if isinstance(source.get("options"), list) or source.get("question"):
        return "decision"
    return "action" if source.get("next_node_id") else "solution"


def _good_ids(tree_type: str, data: Any) -> set[str]:
    return {
        node["id"]
        for node in iter_nodes(tree_type, data)
        if isinstance(node.get("id"), str) and _is_node_id(node["id"])
    }


def _repair_tree(root: Any) -> dict:
    if not isinstance(root, dict):
        return empty_structure("troubleshooting")
    fix = _Repair(_TREE_RULES, _Ids(_good_ids("troubleshooting", root)), [])
    new_root: dict = {}
    stack: list[tuple[dict, dict, int]] = [(root, new_root, 1)]
    seen, filled, count = {id(root)}, set(), 0
    while stack and count < MAX_NODES:  # document order, as the validator counts
        source, target, depth = stack.pop()
        count += 1
        fix.node(source, target)
        filled.add(id(target))
        children = source.get("children")
        if not isinstance(children, list):
            target.pop("children", None)
            continue
        target["children"] = []
        if depth >= MAX_DEPTH:
            continue
        pending = []
        for child in children:
            if isinstance(child, dict) and id(child) not in seen:
                seen.add(id(child))
                new: dict = {}
                target["children"].append(new)
                pending.append((child, new, depth + 1))
        stack.extend(reversed(pending))
    for node in iter_nodes("troubleshooting", new_root):  # drop what the node cap cut off
        if isinstance(node.get("children"), list):
            node["children"] = [child for child in node["children"] if id(child) in filled]
    fix.finish()
    return new_root


def _repair_steps(data: Any) -> dict:
    if isinstance(data, list):
        data = {"steps": data}  # a bare list of steps
    if not isinstance(data, dict):
        return {"steps": []}
    top = {printable(str(k)): _clean_json(v) for k, v in data.items() if k != "steps"}
    steps = [step for step in _steps(data) if isinstance(step, dict)][:MAX_NODES]
    fix = _Repair(_STEP_RULES, _Ids(_good_ids("procedural", {"steps": steps})), [])
    top["steps"] = [fix.node(step, {}) for step in steps]
    for step in top["steps"]:
        if step.get("children") is None:
            step.pop("children", None)
    fix.finish()
    return top


def repair_structure(tree_type: str, data: Any) -> Any:
    """A structure that passes the shape check, keeping all that can be kept of ``data``.

    Unusable nodes are dropped, bad or repeated ids rewritten (links follow), unknown types
    guessed, non-text text written out or dropped, non-http(s) links removed, unstorable text
    spelled as escapes, sizes cut to the limits. Completeness is not repaired: that is the
    author's job before publishing. An unknown ``tree_type`` returns ``data`` unchanged."""
    if tree_type == "troubleshooting":
        return _repair_tree(data)
    if tree_type in STEP_TREE_TYPES:
        return _repair_steps(data)
    return data


def repair_intake_form(data: Any) -> list[dict]:
    """An intake form that passes validation: broken fields dropped or coerced, names made
    unique variable names, select fields without options become text fields."""
    if not isinstance(data, list):
        return []
    fields: list[dict] = []
    names: set[str] = set()
    for item in data:
        if not isinstance(item, dict) or len(fields) >= MAX_INTAKE_FIELDS:
            continue
        field = {printable(str(k)): _clean_json(v) for k, v in item.items()}
        field["name"] = _intake_name(item.get("name"), names, len(fields) + 1)
        label = _as_text(item.get("label"))
        field["label"] = label if label and label.strip() else field["name"]
        field_type = item.get("type")
        field["type"] = field_type if field_type in INTAKE_TYPES else "text"
        if not isinstance(item.get("required"), bool):
            field.pop("required", None)
        options = item.get("options")
        if isinstance(options, list):
            kept = [_clean_text(o) for o in options if isinstance(o, str)]
            field["options"] = [o for o in kept if o.strip()][:MAX_OPTIONS]
        else:
            field.pop("options", None)
        if field["type"] == "select" and not field.get("options"):
            field["type"] = "text"
        fields.append(field)
    return fields


def _intake_name(value: Any, taken: set[str], position: int) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", value).strip("_")[:40] if isinstance(value, str) else ""
    return nodes.claim_unique(base or f"field{position}", taken, "_")
