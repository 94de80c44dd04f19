"""The flow format, defined once: flow types, node types, their fields and human names.

SPEC §3.1 (``tree_structure``) and §3.2 (intake form) as data. The validator, the editors and
their forms, the runners and the selectors read this table instead of keeping their own lists,
so a field added here is known everywhere. ``walk()`` is the one traversal of a structure and
``heading()`` the one way to name a node.

Like ``flows/structure.py`` this imports nothing from Django and is written for hostile input:
the walk uses an explicit stack (10,000 levels cannot raise ``RecursionError``), never follows
links, and skips a dict it has already visited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

MAX_TEXT = 20_000  # any one text field
MAX_ID_LEN = 100  # node ids and intake field names
MAX_LABEL = 200  # an option's label
MAX_URL = 2_000
MAX_MINUTES = 10_000

FieldKind = Literal[
    "text",  # one line of text (a title, a question)
    "longtext",  # free text shown with line breaks
    "url",  # an http(s) link
    "minutes",  # a whole number, 0 or more
    "commands",  # text, or a list of {language, label, code}
    "choice",  # one of ``choices``; absent means the blank choice
    "bool",
    "links",  # a decision's options: [{label, next_node_id}]
    "target",  # the id of another node
]
TEXT_KINDS: tuple[FieldKind, ...] = ("text", "longtext")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a node type; ``label`` and ``help_text`` are what the editor shows."""

    name: str
    kind: FieldKind
    label: str
    required_at_publish: bool = False
    max_length: int | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, human label)
    blank_label: str = ""  # a choice's label for "not set"
    help_text: str = ""
    editable: bool = True  # the visual editor changes it (else only the JSON page does)
    default: str = ""  # the choice an absent value means; a select lists it once, as the blank

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)

    def choice_label(self, value: Any) -> str:
        """The human name of a stored value; unknown values are shown as they are."""
        if value in (None, ""):
            return self.blank_label
        return dict(self.choices).get(value, str(value)) if isinstance(value, str) else ""

    def form_choices(self) -> list[tuple[str, str]]:
        """Choices for a select, the blank one first; the default is the blank, not repeated."""
        return [("", self.blank_label), *(c for c in self.choices if c[0] != self.default)]


def is_http_url(value: Any) -> bool:
    """The one rule for a stored link: text starting http:// or https://."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _text(name: str, label: str, *, required: bool = False, editable: bool = True) -> FieldSpec:
    return FieldSpec(name, "text", label, required, MAX_TEXT, editable=editable)


def _longtext(name: str, label: str) -> FieldSpec:
    return FieldSpec(name, "longtext", label, max_length=MAX_TEXT)


DESCRIPTION = _longtext("description", "Description")
COMMANDS = FieldSpec("commands", "commands", "Commands", max_length=MAX_TEXT)
# A command's language; text commands are read as "shell" (structure.normalise_commands).
COMMAND_LANGUAGES = ("shell", "powershell", "cmd", "bash", "sql", "text")
CONTENT_TYPE = FieldSpec(
    "content_type",
    "choice",
    "Kind of step",
    choices=(
        ("action", "Action"),
        ("informational", "Informational"),
        ("verification", "Verification"),
        ("warning", "Warning"),
    ),
    blank_label="Action",
    default="action",
)
PUBLIC = "public"  # the library visibility only staff may choose
LIBRARY_VISIBILITY = FieldSpec(
    "library_visibility",
    "choice",
    "Library visibility",
    choices=(("team", "Team only"), ("public", "Public")),
    blank_label="Inherit from flow",
    help_text="Who finds this step in the step library once the flow is published.",
)


@dataclass(frozen=True)
class NodeType:
    """One kind of node: where it lives, what it is called and which fields it has."""

    name: str
    label: str  # "Section header": capitalised, for badges and choices
    noun: str  # "section header": for sentences ("Added the section header …")
    family: Literal["troubleshooting", "steps"]
    fields: tuple[FieldSpec, ...]
    heading_field: str = "title"
    has_children: bool = False
    forbidden: tuple[str, ...] = ()  # fields this kind must not carry (solutions end the flow)
    id_prefix: str = "n"  # new nodes get short ids: q1, a2, step3 (never slugs of their text)
    once: bool = False  # at most one per flow (the end step): its id is the bare prefix

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def names(self, *kinds: FieldKind, editable: bool | None = None) -> tuple[str, ...]:
        """Field names, optionally of some kinds and only (non-)editable ones."""
        return tuple(
            spec.name
            for spec in self.fields
            if (not kinds or spec.kind in kinds) and editable in (None, spec.editable)
        )

    @property
    def editable(self) -> tuple[str, ...]:
        return self.names(editable=True)

    @property
    def required(self) -> tuple[str, ...]:
        """Fields that must be filled in before the flow can be published."""
        return tuple(spec.name for spec in self.fields if spec.required_at_publish)

    @property
    def required_text(self) -> tuple[str, ...]:
        """Text that must be written before publishing (required links are checked as links)."""
        return tuple(name for name in self.names(*TEXT_KINDS) if name in self.required)


NODE_TYPE_TABLE: tuple[NodeType, ...] = (
    NodeType(
        "decision",
        "Decision",
        "decision",
        "troubleshooting",
        (
            FieldSpec(
                "question",
                "text",
                "Question",
                True,
                MAX_TEXT,
                help_text="What the engineer is asked, e.g. “Is the VDA registered?”",
            ),
            _text("title", "Title", editable=False),
            DESCRIPTION,
            FieldSpec("options", "links", "Options", editable=False),
        ),
        heading_field="question",
        has_children=True,
        id_prefix="q",
    ),
    NodeType(
        "action",
        "Action",
        "action",
        "troubleshooting",
        (
            _text("title", "Title", required=True),
            DESCRIPTION,
            COMMANDS,
            FieldSpec(
                "next_node_id",
                "target",
                "Then go to",
                required_at_publish=True,
                blank_label="— choose the next node —",
            ),
        ),
        forbidden=("children",),
        id_prefix="a",
    ),
    NodeType(
        "solution",
        "Solution",
        "solution",
        "troubleshooting",
        (_text("title", "Title", required=True), DESCRIPTION),
        forbidden=("options", "children", "next_node_id"),
        id_prefix="s",
    ),
    NodeType(
        "section_header",
        "Section header",
        "section header",
        "steps",
        (_text("title", "Title", required=True), DESCRIPTION),
        id_prefix="sec",
    ),
    NodeType(
        "procedure_step",
        "Step",
        "step",
        "steps",
        (
            _text("title", "Title", required=True),
            DESCRIPTION,
            CONTENT_TYPE,
            FieldSpec("estimated_minutes", "minutes", "Estimated minutes"),
            COMMANDS,
            _longtext("expected_outcome", "Expected outcome"),
            _longtext("verification_prompt", "Verification prompt"),
            _longtext("warning_text", "Warning"),
            FieldSpec("reference_url", "url", "Reference link", max_length=MAX_URL),
            LIBRARY_VISIBILITY,
        ),
        id_prefix="step",
    ),
    NodeType(
        "procedure_end",
        "End step",
        "end step",
        "steps",
        (_text("title", "Title"), DESCRIPTION),
        id_prefix="end",
        once=True,
    ),
)
NODE_TYPES_BY_NAME: dict[str, NodeType] = {t.name: t for t in NODE_TYPE_TABLE}

NODE_TYPES = tuple(t.name for t in NODE_TYPE_TABLE if t.family == "troubleshooting")
STEP_TYPES = tuple(t.name for t in NODE_TYPE_TABLE if t.family == "steps")
CONTENT_TYPES = CONTENT_TYPE.values
LIBRARY_VISIBILITIES = LIBRARY_VISIBILITY.values


def node_type(name: Any) -> NodeType | None:
    """The type named ``name``, or None for a missing or unknown type (or a non-string)."""
    return NODE_TYPES_BY_NAME.get(name) if isinstance(name, str) else None


def node_label(name: Any) -> str:
    """ "Section header" for "section_header"; unknown types are shown as they are."""
    known = node_type(name)
    if known is not None:
        return known.label
    return name if isinstance(name, str) and name else "Unknown type"


def type_choices(names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, label) pairs for a select, in the order the caller lists them."""
    return [(name, NODE_TYPES_BY_NAME[name].label) for name in names]


def field_spec(node_type_name: str, field: str) -> FieldSpec | None:
    known = node_type(node_type_name)
    return known.field(field) if known else None


def field_names(*kinds: FieldKind) -> frozenset[str]:
    """Every field name of the given kinds, across all node types."""
    return frozenset(name for t in NODE_TYPE_TABLE for name in t.names(*kinds))


# Every choice field of any node type, by name (content_type, library_visibility).
CHOICE_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec for t in NODE_TYPE_TABLE for spec in t.fields if spec.kind == "choice"
}


def choice_label(field: str, value: Any) -> str:
    """The human name of a choice field's value (content_type, library_visibility)."""
    spec = CHOICE_FIELDS.get(field)
    if spec is not None:
        return spec.choice_label(value)
    return "" if value is None else str(value)


# --- flow types and intake fields -----------------------------------------------------------


@dataclass(frozen=True)
class TreeType:
    name: str
    label: str
    family: Literal["troubleshooting", "steps"]


TREE_TYPE_TABLE: tuple[TreeType, ...] = (
    TreeType("troubleshooting", "Troubleshooting", "troubleshooting"),
    TreeType("procedural", "Procedural", "steps"),
    TreeType("maintenance", "Maintenance", "steps"),
)
TREE_TYPES = tuple(t.name for t in TREE_TYPE_TABLE)
STEP_TREE_TYPES = tuple(t.name for t in TREE_TYPE_TABLE if t.family == "steps")
TREE_TYPE_CHOICES = [(t.name, t.label) for t in TREE_TYPE_TABLE]

# Intake field types (SPEC §3.2) with what the editor calls them.
INTAKE_TYPE_TABLE: tuple[tuple[str, str], ...] = (
    ("text", "Text"),
    ("number", "Number"),
    ("select", "Choice"),
    ("textarea", "Long text"),
)
INTAKE_TYPES = tuple(name for name, _label in INTAKE_TYPE_TABLE)
INTAKE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "name",
        "text",
        "Variable name",
        True,
        MAX_ID_LEN,
        help_text="Used as [VAR:name] in step text.",
    ),
    FieldSpec("label", "text", "Question", True, 500),
    FieldSpec("type", "choice", "Answer type", True, choices=INTAKE_TYPE_TABLE),
    FieldSpec("required", "bool", "Required"),
    FieldSpec(
        "options",
        "longtext",
        "Choices",
        max_length=MAX_TEXT,
        help_text="For a choice: one per line.",
    ),
)
INTAKE_FIELDS_BY_NAME = {spec.name: spec for spec in INTAKE_FIELDS}


def intake_type_choices(order: Iterable[str] = INTAKE_TYPES) -> list[tuple[str, str]]:
    labels = dict(INTAKE_TYPE_TABLE)
    return [(name, labels[name]) for name in order]


def short_id(node_type_name: str, taken: set[str]) -> str:
    """A new node's id: its type's prefix and the first free number (q1, a2, step7), recorded
    in ``taken``. Short and stable: renaming the node never changes it."""
    known = node_type(node_type_name)
    prefix = known.id_prefix if known else "n"
    if known and known.once and prefix not in taken:
        taken.add(prefix)
        return prefix
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    taken.add(f"{prefix}{number}")
    return f"{prefix}{number}"


def claim_unique(base: str, taken: set[str], separator: str = "-") -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is not taken yet; records the claim."""
    candidate, counter = base, 2
    while candidate in taken:
        candidate = f"{base}{separator}{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


# --- reading a structure --------------------------------------------------------------------


def _family(tree_type: Any) -> str | None:
    found = next((t for t in TREE_TYPE_TABLE if t.name == tree_type), None)
    return found.family if found else None


@dataclass(frozen=True)
class Visit:
    """A node met by ``walk()`` and where it sits. ``node`` is not a dict only when the walk
    was asked for malformed items too."""

    node: Any
    depth: int  # the root (and every step) is 0
    parent: dict | None  # the node whose children hold it; None for a root or a step
    index: int | None  # position in ``siblings``; None for a tree's root
    siblings: list | None  # the children (or steps) list that holds it

    @property
    def is_first(self) -> bool:
        return not self.index

    @property
    def is_last(self) -> bool:
        return self.siblings is None or self.index == len(self.siblings) - 1


def walk(
    tree_type: Any, data: Any, *, malformed: bool = False, max_depth: int | None = None
) -> Iterator[Visit]:
    """Every node of a structure in document order: a checklist's steps, or a tree depth-first
    through ``children`` (never through links, so loops of ids cannot trap it).

    Safe on any input: an unknown type or a broken document yields nothing (or what is there),
    nesting is walked with an explicit stack, and a dict met twice (hand-built cycles; parsed
    JSON has none) is yielded once. ``malformed`` also yields non-dict items, for the validator
    to report. With ``max_depth`` nodes deeper than it are yielded but not entered.
    """
    family = _family(tree_type)
    if family == "steps":
        steps = data.get("steps") if isinstance(data, dict) else None
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            if malformed or isinstance(step, dict):
                yield Visit(step, 0, None, index, steps)
    elif family == "troubleshooting":
        yield from walk_tree(data, malformed=malformed, max_depth=max_depth)


def walk_tree(
    root: Any, *, malformed: bool = False, max_depth: int | None = None
) -> Iterator[Visit]:
    """``walk()`` for a troubleshooting tree, or any subtree of one."""
    stack = [Visit(root, 0, None, None, None)]
    seen: set[int] = set()
    while stack:
        visit = stack.pop()
        node = visit.node
        if not isinstance(node, dict):
            if malformed:
                yield visit
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield visit
        children = node.get("children")
        if not isinstance(children, list) or (max_depth is not None and visit.depth > max_depth):
            continue
        stack.extend(
            Visit(child, visit.depth + 1, node, index, children)
            for index, child in reversed(list(enumerate(children)))
        )


def heading(node: Any, *, fallback: str = "(untitled)", with_id: bool = True) -> str:
    """What a node is called: its question, else its title, else its id (``with_id``), else
    ``fallback``. Only text counts, so a hostile value (a list, a number) is never printed."""
    if not isinstance(node, dict):
        return fallback
    keys = ("question", "title", "id") if with_id else ("question", "title")
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return fallback


def decision_options(node: Any) -> list[dict[str, Any]]:
    """A node's options that are objects; anything else stored (a number for the list, text for
    an option: runs started before the shape rules keep such snapshots) is left out."""
    value = node.get("options") if isinstance(node, dict) else None
    if not isinstance(value, list):
        return []
    return [option for option in value if isinstance(option, dict)]


def copy_json(value: Any) -> Any:
    """Deep copy of parsed JSON with an explicit stack (``copy.deepcopy`` recurses); shared
    objects stay shared, so a cyclic hand-built value is copied without looping."""
    if not isinstance(value, dict | list):
        return value
    memo: dict[int, Any] = {}
    stack: list[tuple[Any, Any]] = []

    def clone(item: Any) -> Any:
        if not isinstance(item, dict | list):
            return item
        if id(item) not in memo:
            memo[id(item)] = {} if isinstance(item, dict) else []
            stack.append((item, memo[id(item)]))
        return memo[id(item)]

    root = clone(value)
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict):
            target.update((key, clone(item)) for key, item in source.items())
        else:
            target.extend(clone(item) for item in source)
    return root
