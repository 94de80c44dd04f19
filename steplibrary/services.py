"""Writes on the step library. Pages, the API, the admin and the sessions app come through here.

The sync from published flows lives in ``steplibrary.sync``; this module holds what people do:
create, edit, delete and copy entries, and what running a session feeds back (uses, votes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest

from accounts.models import User
from flows.models import Category, Tag
from flows.services import category_for, tags_for
from resolutionflow.errors import ServiceError
from resolutionflow.search import is_postgres
from steplibrary.models import LibraryStep, StepType, Visibility

MAX_COMMANDS = 20
MAX_TEXT = 20_000
MAX_LABEL = 200
MAX_COMMAND_TYPE = 30
MAX_TAGS = 20
CONTENT_FIELDS = ("instructions", "help_text", "commands", "group_label")
EDITABLE_FIELDS = {"title", "step_type", "visibility", "category", "tags", *CONTENT_FIELDS}


class LibraryStepReadOnly(ServiceError):
    """Edits and deletes of a synced entry: it belongs to its flow (the API answers 400)."""

    code = "managed_by_source_flow"

    def __init__(self, step: LibraryStep) -> None:
        flow = f"“{step.source_tree.name}”" if step.source_tree is not None else "its source flow"
        super().__init__(
            f"This step is managed by its source flow {flow} and changes only when that flow "
            "is edited and published again. To customise it, save a copy to your library "
            "(POST /api/steps/{id}/copy/, or “Save a copy” on the library page) and edit "
            "the copy.".replace("{id}", str(step.pk))
        )


# --- checks ---------------------------------------------------------------------------------


def ensure_can_create(*, user: User) -> None:
    if not user.can_edit_content:
        raise PermissionDenied("Viewers can browse the library but not add to it.")


def ensure_can_edit(*, step: LibraryStep, user: User) -> None:
    """Viewers: 403. Synced entries: read-only (400) for everyone. Others' entries: 403."""
    ensure_can_create(user=user)
    if step.is_flow_synced:
        raise LibraryStepReadOnly(step)
    if not step.can_be_edited_by(user):
        raise PermissionDenied("You cannot change this library step.")


def ensure_can_delete(*, step: LibraryStep, user: User) -> None:
    ensure_can_create(user=user)
    if step.is_flow_synced:
        raise LibraryStepReadOnly(step)
    if not step.can_be_deleted_by(user):
        raise PermissionDenied("Only its creator or a team admin can delete this library step.")


def clean_commands(commands: Any) -> list[dict[str, str]]:
    """Commands as [{label, command, command_type}]; blank rows are dropped. Errors name the
    command by its position, as the form shows them."""
    if commands is None:
        return []
    if not isinstance(commands, list | tuple):
        raise ValidationError({"commands": "Commands must be a list."})
    cleaned, errors = [], []
    for index, item in enumerate(commands, start=1):
        if not isinstance(item, Mapping):
            errors.append(f"Command {index} must be an object with label and command.")
            continue
        label = str(item.get("label") or "").strip()
        command = str(item.get("command") or "").strip("\n")
        command_type = str(item.get("command_type") or "").strip() or "shell"
        if not label and not command.strip():
            continue
        if not command.strip():
            errors.append(f"Command {index} (“{label}”) has no command text.")
        elif len(command) > MAX_TEXT:
            errors.append(f"Command {index} is longer than {MAX_TEXT:,} characters.")
        if len(label) > MAX_LABEL:
            errors.append(f"The label of command {index} is longer than {MAX_LABEL} characters.")
        if len(command_type) > MAX_COMMAND_TYPE:
            errors.append(f"The type of command {index} is longer than {MAX_COMMAND_TYPE}.")
        cleaned.append({"label": label, "command": command, "command_type": command_type})
    if len(cleaned) > MAX_COMMANDS:
        errors.append(f"A step can have at most {MAX_COMMANDS} commands.")
    if errors:
        raise ValidationError({"commands": errors})
    return cleaned


def _text(name: str, value: Any, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError({name: "This field is required."})
    if len(text) > limit:
        raise ValidationError({name: f"Keep this under {limit:,} characters."})
    return text


def _validated(step: LibraryStep, *, user: User, was_public: bool = False) -> LibraryStep:
    """Model-level checks (title length, choices) plus the rules of the library."""
    errors: dict[str, list[str]] = {}
    try:
        step.full_clean(
            exclude=["created_by", "account", "category", "source_tree", "content", "search_text"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as invalid:
        errors.update(invalid.message_dict)
    if step.visibility == Visibility.TEAM and step.account_id is None:
        errors.setdefault("visibility", []).append(
            "Team visibility needs a team; choose Private or Public."
        )
    if step.visibility == Visibility.PUBLIC and not user.is_staff and not was_public:
        errors.setdefault("visibility", []).append(
            "Only staff share steps with every team; choose Private or Team."
        )
    if errors:
        raise ValidationError(errors)
    return step


def _content(fields: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Content from form/API fields, each collecting its own error so a form shows them all."""
    base = dict(base or {})
    errors: dict[str, list[str]] = {}
    content = {
        "instructions": base.get("instructions", ""),
        "help_text": base.get("help_text", ""),
        "commands": base.get("commands", []),
        "group_label": base.get("group_label", ""),
    }
    checks = {
        "instructions": lambda v: _text("instructions", v, required=True),
        "help_text": lambda v: _text("help_text", v),
        "group_label": lambda v: _text("group_label", v, limit=255),
        "commands": clean_commands,
    }
    for name, check in checks.items():
        if name in fields or name == "instructions":
            try:
                content[name] = check(fields.get(name, content[name]))
            except ValidationError as invalid:
                errors.update(invalid.message_dict)
    if errors:
        raise ValidationError(errors)
    return content


def _check_tags(names: Iterable[str | Tag] | None) -> None:
    if len(list(names or [])) > MAX_TAGS:
        raise ValidationError({"tags": f"At most {MAX_TAGS} tags."})


def _check_category(value: Category | str | None) -> None:
    if isinstance(value, str) and len(value.strip()) > 100:
        raise ValidationError({"category": "Keep the category under 100 characters."})


# --- people's writes ------------------------------------------------------------------------


class _Errors:
    """Collects field errors from several checks so a form shows all of them at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def check(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as invalid:
            for name, messages in invalid.message_dict.items():
                self.by_field.setdefault(name, []).extend(messages)
            return None

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


@transaction.atomic
def library_step_create(
    *,
    user: User,
    title: str,
    instructions: str,
    step_type: str = StepType.ACTION,
    help_text: str = "",
    commands: Iterable[Mapping[str, Any]] = (),
    group_label: str = "",
    visibility: str = Visibility.PRIVATE,
    category: Category | str | None = None,
    tags: Iterable[str | Tag] = (),
) -> LibraryStep:
    """A hand-made entry of the user (never synced), private unless they choose otherwise."""
    ensure_can_create(user=user)
    tags = list(tags)
    errors = _Errors()
    content = errors.check(
        _content,
        {
            "instructions": instructions,
            "help_text": help_text,
            "commands": list(commands),
            "group_label": group_label,
        },
    )
    step = LibraryStep(
        title=(title or "").strip(),
        step_type=step_type,
        visibility=visibility,
        content=content or {},
        created_by=user,
        account_id=user.account_id,
    )
    errors.check(_validated, step, user=user)
    errors.check(_check_category, category)
    errors.check(_check_tags, tags)
    errors.raise_any()
    step.category = category_for(category)
    step.save()
    step.tags.set(tags_for(tags))
    return step


@transaction.atomic
def library_step_update(*, step: LibraryStep, user: User, **fields: Any) -> LibraryStep:
    """Change a hand-made entry; any subset of EDITABLE_FIELDS."""
    ensure_can_edit(step=step, user=user)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if "tags" in fields:
        fields["tags"] = list(fields["tags"] or [])
    errors = _Errors()
    was_public = step.visibility == Visibility.PUBLIC  # an entry staff shared may stay shared
    content = errors.check(_content, fields, base=step.content)
    for name in ("title", "step_type", "visibility"):
        if name in fields:
            value = fields[name]
            setattr(step, name, value.strip() if isinstance(value, str) else value)
    errors.check(_validated, step, user=user, was_public=was_public)
    if "category" in fields:
        errors.check(_check_category, fields["category"])
    if "tags" in fields:
        errors.check(_check_tags, fields["tags"])
    errors.raise_any()
    step.content = content
    if "category" in fields:
        step.category = category_for(fields["category"])
    step.save()
    if "tags" in fields:
        step.tags.set(tags_for(fields["tags"]))
    return step


@transaction.atomic
def library_step_delete(*, step: LibraryStep, user: User) -> None:
    ensure_can_delete(step=step, user=user)
    step.delete()


def copy_initial(step: LibraryStep) -> dict[str, Any]:
    """An entry's fields as a new personal entry would start (the "Save a copy" modal)."""
    category = step.shown_category
    return {
        "title": step.title,
        "step_type": step.step_type,
        "instructions": step.instructions,
        "help_text": step.help_text,
        "commands": step.commands,
        "group_label": step.group_label,
        "visibility": Visibility.PRIVATE,
        "category": category.name if category else "",
        "tags": [tag.name for tag in step.shown_tags],
    }


@transaction.atomic
def library_step_copy(*, step: LibraryStep, user: User, **overrides: Any) -> LibraryStep:
    """Save a personal copy (of a synced entry, usually): not synced, no source, created by the
    user, private unless ``overrides`` say otherwise."""
    unknown = set(overrides) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    return library_step_create(user=user, **{**copy_initial(step), **overrides})


# --- what running sessions feed back (called by the sessions app) ---------------------------


def library_step_record_use(*, step: LibraryStep | uuid.UUID | str) -> None:
    """An engineer inserted this entry into a session: one atomic increment, no lost updates."""
    pk = step.pk if isinstance(step, LibraryStep) else step
    LibraryStep.objects.filter(pk=pk).update(usage_count=F("usage_count") + 1)


def library_step_vote(
    *, tree_id: uuid.UUID | str, node_id: str, old: bool | None, new: bool | None
) -> int:
    """A thumbs up/down on a flow step changed from ``old`` to ``new`` (None = no vote): move the
    synced entry's helpful counts by the difference, so a flip is -1 old/+1 new, a clear is -1
    and a repeat is nothing. Returns the number of entries updated (0 when the node is not in
    the library). Counts never go below zero, whatever order votes arrive in."""
    if old is new:
        return 0
    yes_delta = int(new is True) - int(old is True)
    no_delta = int(new is False) - int(old is False)
    return LibraryStep.objects.filter(
        source_tree_id=tree_id, source_node_id=node_id, is_flow_synced=True
    ).update(
        helpful_yes=Greatest(F("helpful_yes") + yes_delta, Value(0)),
        helpful_no=Greatest(F("helpful_no") + no_delta, Value(0)),
    )


# --- search ---------------------------------------------------------------------------------


def _vector_sql(*, title: str, body: str, commands: str, tags: str) -> str:
    """An entry's weighted tsvector from four SQL text expressions: title (A); instructions,
    help text and group label (B); commands and tags (C). Split into words as a search box is
    (resolutionflow.search.words_vector_sql)."""

    def words(sql: str) -> str:
        plain = f"regexp_replace(coalesce({sql}, ''), '[^[:alnum:]]+', ' ', 'g')"
        return f"to_tsvector('english', {plain})"

    extra = f"concat_ws(' ', {commands}, {tags})"
    return (
        f"setweight({words(title)}, 'A') || setweight({words(body)}, 'B') "
        f"|| setweight({words(extra)}, 'C')"
    )


_COMMANDS_SQL = ", ".join(
    f"""array_to_string(ARRAY(SELECT v #>> '{{}}' FROM jsonb_path_query(
        steplibrary_librarystep.content, 'lax $.commands[*].{key}', '{{}}', true) AS v), ' ')"""
    for key in ("label", "command")
)
_FLOW_TAGS_SQL = """(SELECT string_agg(t.name, ' ') FROM flows_tag t
    JOIN flows_tree_tags tt ON tt.tag_id = t.id WHERE tt.tree_id = {tree})"""

# The vector from the saved row (refreshes after saves and tag changes). Synced entries wear
# their flow's tags. steplibrary/migrations/0004_search_vector.py holds a frozen copy.
SEARCH_VECTOR_SQL = _vector_sql(
    title="steplibrary_librarystep.title",
    body="concat_ws(' ', steplibrary_librarystep.content ->> 'instructions', "
    "steplibrary_librarystep.content ->> 'help_text', "
    "steplibrary_librarystep.content ->> 'group_label')",
    commands=f"concat_ws(' ', {_COMMANDS_SQL})",
    tags="concat_ws(' ', (SELECT string_agg(t.name, ' ') FROM flows_tag t "
    "JOIN steplibrary_librarystep_tags lt ON lt.tag_id = t.id "
    "WHERE lt.librarystep_id = steplibrary_librarystep.id), "
    "CASE WHEN steplibrary_librarystep.is_flow_synced THEN "
    + _FLOW_TAGS_SQL.format(tree="steplibrary_librarystep.source_tree_id")
    + " END)",
)
# The same vector from the values of a synced row, so the sync's one upsert writes it: a second
# UPDATE of every row would double the cost of publishing a 1,000-step flow.
SYNCED_VECTOR_SQL = _vector_sql(
    title="%s::text", body="%s::text", commands="%s::text", tags=_FLOW_TAGS_SQL.format(tree="%s")
)


def synced_search_vector(*, title: str, content: dict[str, Any], tree_id: Any) -> RawSQL | None:
    """The search vector of a synced row about to be upserted (None on SQLite)."""
    if not is_postgres():
        return None
    body = " ".join(content.get(key) or "" for key in ("instructions", "help_text", "group_label"))
    listed = content.get("commands") or []  # labels, then commands: as SEARCH_VECTOR_SQL reads
    commands = " ".join([c["label"] for c in listed] + [c["command"] for c in listed])
    return RawSQL(SYNCED_VECTOR_SQL, [title, body, commands, tree_id])


# The fields the vector is made of (tags are watched through their m2m signal).
SEARCH_FIELDS = frozenset({"title", "content", "source_tree", "source_tree_id", "is_flow_synced"})


def steps_search_refresh(*, steps: QuerySet[LibraryStep]) -> int:
    """Recompute these entries' search vectors in one UPDATE (PostgreSQL; SQLite has none).

    Called after every save and tag change (steplibrary/signals.py) and by the sync after its
    upsert, so every write path (pages, API, admin, sync, copies) keeps the vector current."""
    if not is_postgres():
        return 0
    return steps.order_by().update(search_vector=RawSQL(SEARCH_VECTOR_SQL, []))
