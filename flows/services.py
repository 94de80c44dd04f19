"""Writes on flows. Pages, the API, the admin and commands all come through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.text import slugify

from accounts.audit import audit_record
from accounts.models import AuditAction, User
from flows import merge, nodes, selectors, structure
from flows.models import (
    Category,
    StepSuggestionDismissal,
    Tag,
    Tree,
    TreeStatus,
    TreeType,
    TreeVersion,
)
from resolutionflow.errors import ServiceError
from resolutionflow.search import is_postgres


class PublishRefused(structure.StructureInvalid):
    """Publishing found problems; `errors` names each node and what is wrong."""

    code = "publish_refused"

    def __init__(self, errors: list[structure.StructureError]) -> None:
        super().__init__(errors)
        self.detail = f"{len(errors)} problem(s) must be fixed before publishing."
        self.args = (self.detail,)


CONFLICT_MESSAGE = (
    "This flow was changed in another tab or by someone else after this page was loaded. "
    "Nothing of yours was saved; you now see the latest version, so make your change again."
)


class EditConflict(structure.StructureInvalid):
    """A write based on an older revision than the flow's: refused, never merged (HTTP 409)."""

    status_code = 409
    code = "stale_revision"
    detail = CONFLICT_MESSAGE

    def __init__(self, revision: int) -> None:
        super().__init__([structure.StructureError(None, "revision", CONFLICT_MESSAGE)])
        self.revision = revision

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "revision": self.revision}


class MergeEditInvalid(ServiceError):
    """A pull's "edit" choices that break the editor's rules; `errors` by conflict id."""

    code = "invalid_edit"

    def __init__(self, errors: dict[str, list[structure.StructureError]]) -> None:
        self.errors = errors
        count = sum(len(problems) for problems in errors.values())
        super().__init__(
            f"Nothing pulled: {count} problem(s) in your edited version of "
            f"{', '.join(errors)}; fix them or take one side."
        )

    def payload(self) -> dict[str, Any]:
        by_conflict: dict[str, dict[str, list[str]]] = {}
        for conflict_id, problems in self.errors.items():
            fields = by_conflict.setdefault(conflict_id, {})
            for problem in problems:
                fields.setdefault(problem.field or "non_field_errors", []).append(problem.message)
        return {**super().payload(), "resolutions": by_conflict}


DETAIL_FIELDS = {"name", "description", "category", "tags", "is_public"}
CONTENT_FIELDS = ("tree_structure", "intake_form")
EDITABLE_FIELDS = DETAIL_FIELDS | set(CONTENT_FIELDS)


def ensure_can_edit(*, tree: Tree, user: User) -> None:
    if not tree.can_be_edited_by(user):
        raise PermissionDenied("You cannot change this flow.")


def ensure_can_create(*, user: User, is_public: bool = False) -> None:
    if not user.can_edit_content:
        raise PermissionDenied("Viewers cannot create flows.")
    if is_public and not user.is_staff:
        raise PermissionDenied("Only staff can make a flow public.")
    if user.account_id is None and not user.is_staff:
        raise PermissionDenied("Join a team before creating flows.")


def check_draft(*, tree_type: str, tree_structure: Any, intake_form: Any) -> None:
    """Every save: drafts may be incomplete, but never of a shape or size we cannot store,
    render or run. The intake form is small, so it is checked in full."""
    errors = structure.validate_structure(tree_type, tree_structure, for_publish=False)
    if not isinstance(intake_form, list):
        errors.append(structure.StructureError(None, "intake_form", "Must be a list of fields."))
    else:
        errors += [
            structure.StructureError(e.node_id, _intake_field(e.field), e.message)
            for e in structure.validate_intake_form(intake_form)
        ]
    if errors:
        raise structure.StructureInvalid(errors)


def _intake_field(field: str | None) -> str:
    """Intake errors are filed under `intake_form`, so forms put them next to that field."""
    return "intake_form" if not field else f"intake_form.{field}"


def category_for(name_or_category: Category | str | None) -> Category | None:
    if name_or_category is None or isinstance(name_or_category, Category):
        return name_or_category
    name = name_or_category.strip()
    if not name:
        return None
    category, _ = Category.objects.get_or_create(
        slug=slugify(name)[:100], defaults={"name": name[:100]}
    )
    return category


def tags_for(names: Iterable[str | Tag]) -> list[Tag]:
    tags: list[Tag] = []
    for item in names:
        if isinstance(item, Tag):
            tags.append(item)
            continue
        slug = slugify(item)[:50]
        if slug and slug not in {t.slug for t in tags}:
            tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": item.strip()[:50]})
            tags.append(tag)
    return tags


@transaction.atomic
def tree_create(
    *,
    user: User,
    name: str,
    tree_type: str,
    description: str = "",
    tree_structure: Any = None,
    intake_form: Any = None,
    category: Category | str | None = None,
    tags: Iterable[str | Tag] = (),
    is_public: bool = False,
) -> Tree:
    """A new draft in the user's account, authored by the user."""
    ensure_can_create(user=user, is_public=is_public)
    if tree_type not in TreeType.values:
        raise structure.StructureInvalid(
            [structure.StructureError(None, "tree_type", f"Unknown flow type '{tree_type}'.")]
        )
    if tree_structure is None:
        tree_structure = structure.empty_structure(tree_type)
    intake_form = [] if intake_form is None else intake_form
    check_draft(tree_type=tree_type, tree_structure=tree_structure, intake_form=intake_form)
    if not user.is_staff:  # as for an update: a new flow has no Public step to keep
        _check_no_new_public_steps(Tree(tree_type=tree_type), tree_structure)
    tree = Tree.objects.create(
        name=name,
        description=description,
        tree_type=tree_type,
        tree_structure=tree_structure,
        intake_form=intake_form,
        category=category_for(category),
        account=user.account,
        author=user,
        is_public=is_public,
    )
    tree.tags.set(tags_for(tags))
    return tree


def check_revision(tree: Tree, revision: int | None) -> None:
    """Refuse a write based on an older revision; None skips the check (trusted internal
    callers such as the default-flow loader). Call it on the locked row."""
    if revision is not None and revision != tree.revision:
        raise EditConflict(tree.revision)


def content_write(tree: Tree, *, tree_structure: Any, intake_form: Any) -> list[str]:
    """Put new content where every edit goes and return the fields to save.

    A draft changes in place. A published flow is never changed in place: the content becomes
    its working copy (`draft_structure`, `draft_intake_form`) until `tree_publish` applies it,
    so engineers running the flow never see half-made edits. Drafts may be incomplete, but the
    shape is checked on every write (`check_draft`)."""
    intake_form = [] if intake_form is None else intake_form
    check_draft(tree_type=tree.tree_type, tree_structure=tree_structure, intake_form=intake_form)
    tree.revision += 1  # every open editor page and API client now holds a stale copy
    if not tree.is_published:
        tree.tree_structure, tree.intake_form = tree_structure, intake_form
        return ["tree_structure", "intake_form", "revision", "updated_at"]
    # Edits back to the live version leave nothing to publish.
    same = tree_structure == tree.tree_structure and intake_form == tree.intake_form
    tree.draft_structure = None if same else tree_structure
    tree.draft_intake_form = None if same else intake_form
    # The live flow did not change, so neither does updated_at (forks' "parent updated").
    return ["draft_structure", "draft_intake_form", "revision"]


def _apply_details(tree: Tree, fields: dict[str, Any]) -> list[str]:
    if "category" in fields:
        fields["category"] = category_for(fields["category"])
    for name, value in fields.items():
        setattr(tree, name, value)
    return [*fields, "updated_at"] if fields else []


@transaction.atomic
def tree_update(*, tree: Tree, user: User, revision: int | None = None, **fields: Any) -> Tree:
    """Change a flow: details (name, description, category, tags, visibility) apply at once;
    content (structure, intake form) goes through `content_write` — a published flow's working
    copy. A `revision` older than the flow's is refused with `EditConflict` (409)."""
    ensure_can_edit(tree=tree, user=user)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if fields.get("is_public") and not user.is_staff:
        raise PermissionDenied("Only staff can make a flow public.")
    # The fresh, locked row: a stale instance must not overwrite an editor's working copy.
    tree = locked(tree)
    content = {key: fields.pop(key) for key in CONTENT_FIELDS if key in fields}
    tags = fields.pop("tags", None)
    changed = _apply_details(tree, fields)
    if content:
        check_revision(tree, revision)
        if "tree_structure" in content and not user.is_staff:
            _check_no_new_public_steps(tree, content["tree_structure"])
        changed += content_write(
            tree,
            tree_structure=content.get("tree_structure", tree.editing_structure),
            intake_form=content.get("intake_form", tree.editing_intake_form),
        )
    if changed:
        # The save names what changed, so the library sync knows whether to run.
        tree.save(update_fields=sorted(set(changed)))
    if tags is not None:
        tree.tags.set(tags_for(tags))
    return tree


def _public_step_ids(tree_type: str, tree_structure: Any) -> set[str]:
    index = structure.node_index(tree_type, tree_structure)
    return {i for i, node in index.items() if node.get("library_visibility") == nodes.PUBLIC}


def _check_no_new_public_steps(tree: Tree, tree_structure: Any) -> None:
    """Only staff share a step with every team: a non-staff write may keep a node's Public
    library visibility but not add one."""
    added = _public_step_ids(tree.tree_type, tree_structure) - _public_step_ids(
        tree.tree_type, tree.editing_structure
    )
    if added:
        raise PermissionDenied(
            f"Only staff share steps with every team: set library_visibility of "
            f"{', '.join(sorted(added))} to team or leave it out."
        )


def locked(tree: Tree) -> Tree:
    """Re-read the row under a lock so two publishes or retires cannot interleave."""
    return Tree.objects.select_for_update().get(pk=tree.pk)


NOTE_LIMIT = 500


@transaction.atomic
def tree_publish(*, tree: Tree, user: User, revision: int | None = None, note: str = "") -> Tree:
    """Validate and publish; a published flow's working copy replaces the live version.
    With a `revision`, only if nobody changed the flow since (else `EditConflict`).
    Every publish records a numbered, immutable `TreeVersion` with the optional `note`."""
    ensure_can_edit(tree=tree, user=user)
    if not isinstance(note, str) or len(note.strip()) > NOTE_LIMIT:
        raise ValidationError({"note": f"Keep the change note to {NOTE_LIMIT} characters."})
    tree = locked(tree)
    check_revision(tree, revision)
    errors = tree.editing_errors()
    if errors:
        raise PublishRefused(errors)
    changed = _fold_working_copy(tree)
    republished = tree.is_published
    tree.status = TreeStatus.PUBLISHED
    tree.published_at = timezone.now()
    tree.save(update_fields=[*changed, "status", "published_at", "updated_at"])
    version = version_record(tree=tree, user=user, note=note.strip())
    _audit(AuditAction.FLOW_PUBLISHED, tree, user, republished=republished, version=version.number)
    return tree


def version_record(*, tree: Tree, user: User | None, note: str = "") -> TreeVersion:
    """The next numbered version of what is live now. Called inside the publish transaction
    (the flow row is locked, so two publishes cannot take the same number)."""
    last = tree.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return TreeVersion.objects.create(
        tree=tree,
        number=last + 1,
        name=tree.name,
        tree_structure=nodes.copy_json(tree.tree_structure),
        intake_form=nodes.copy_json(tree.intake_form),
        note=note,
        created_by=user,
    )


@transaction.atomic
def tree_restore(*, tree: Tree, user: User, number: int, revision: int | None = None) -> Tree:
    """Put an old version into the working copy (a draft: the flow itself). Nothing goes
    live until the owner publishes, which records a new version as usual."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    version = tree.versions.filter(number=number).first()
    if version is None:
        raise ValidationError({"version": f"This flow has no version {number}."})
    check_revision(tree, revision)
    changed = content_write(
        tree,
        tree_structure=nodes.copy_json(version.tree_structure),
        intake_form=nodes.copy_json(version.intake_form),
    )
    tree.save(update_fields=sorted(set(changed)))
    _audit(AuditAction.FLOW_RESTORED, tree, user, version=number)
    return tree


@transaction.atomic
def tree_mark_verified(*, tree: Tree, user: User) -> Tree:
    """An editor confirms the flow is still right: records who and when (clears "stale")."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    tree.verified_at = timezone.now()
    tree.verified_by = user
    # A queryset update: verifying is no edit, so the flow's updated_at stays as it was.
    Tree.objects.filter(pk=tree.pk).update(verified_at=tree.verified_at, verified_by=user)
    _audit(AuditAction.FLOW_VERIFIED, tree, user)
    return tree


def _audit(action: AuditAction, tree: Tree, user: User, **detail: Any) -> None:
    """Record a flow event in the flow's account (staff acting there included)."""
    audit_record(action, actor=user, account=tree.account, target=tree, detail=detail)


def _fold_working_copy(tree: Tree) -> list[str]:
    """Make the working copy the flow itself (publish, unpublish); the fields it changed."""
    if not tree.has_working_copy:
        return []
    tree.tree_structure = tree.editing_structure
    tree.intake_form = tree.editing_intake_form
    tree.draft_structure = tree.draft_intake_form = None
    tree.revision += 1
    return ["tree_structure", "intake_form", "draft_structure", "draft_intake_form", "revision"]


@transaction.atomic
def tree_unpublish(*, tree: Tree, user: User) -> Tree:
    """Back to draft. Nobody runs a draft, so unpublished edits become the draft itself."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    was_published = tree.is_published
    changed = _fold_working_copy(tree)
    tree.status = TreeStatus.DRAFT
    tree.save(update_fields=[*changed, "status", "updated_at"])
    if was_published:
        _audit(AuditAction.FLOW_UNPUBLISHED, tree, user)
    return tree


@transaction.atomic
def tree_changes_discard(*, tree: Tree, user: User) -> Tree:
    """Throw away a published flow's unpublished edits; the live version stays as it is."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    if tree.has_working_copy:
        tree.draft_structure = tree.draft_intake_form = None
        tree.revision += 1
        # Only the working copy changed: the flow itself (and its updated_at) did not.
        tree.save(update_fields=["draft_structure", "draft_intake_form", "revision"])
    return tree


@transaction.atomic
def tree_set_active(*, tree: Tree, user: User, active: bool) -> Tree:
    """Retire (active=False) hides a flow from the library and stops new runs; history stays."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    retiring = tree.is_active and not active
    tree.is_active = active
    tree.save(update_fields=["is_active", "updated_at"])
    if retiring:
        _audit(AuditAction.FLOW_RETIRED, tree, user)
    return tree


@transaction.atomic
def tree_delete(*, tree: Tree, user: User) -> None:
    """Delete a flow (the admin's delete). Its sessions keep their frozen copy; forks keep
    their content and lose the link. The audit entry keeps the flow's name."""
    ensure_can_edit(tree=tree, user=user)
    _audit(AuditAction.FLOW_DELETED, tree, user, name=tree.name)
    tree.delete()


# --- forks ----------------------------------------------------------------------------------

FORK_TEXT_LIMIT = 255


def _fork_text_errors(name: Any, fork_reason: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "Give the fork a name."
    elif len(name.strip()) > FORK_TEXT_LIMIT:
        errors["name"] = f"Keep the name to {FORK_TEXT_LIMIT} characters."
    if not isinstance(fork_reason, str):
        errors["fork_reason"] = "The reason must be text."
    elif len(fork_reason.strip()) > FORK_TEXT_LIMIT:
        errors["fork_reason"] = f"Keep the reason to {FORK_TEXT_LIMIT} characters."
    return errors


@transaction.atomic
def tree_fork(*, tree: Tree, user: User, name: str, fork_reason: str = "") -> Tree:
    """A draft copy of any flow the user can see, in the user's account, remembering its parent.

    The published structure is copied (never a working copy of unpublished edits)."""
    ensure_can_create(user=user)
    if not Tree.objects.for_user(user).filter(pk=tree.pk).exists():
        raise PermissionDenied("You cannot fork a flow you cannot see.")
    errors = _fork_text_errors(name, fork_reason)
    if errors:
        raise ValidationError(errors)
    parent = Tree.objects.select_related("category").get(pk=tree.pk)
    fork = Tree.objects.create(
        name=name.strip(),
        description=parent.description,
        tree_type=parent.tree_type,
        tree_structure=nodes.copy_json(parent.tree_structure),
        intake_form=nodes.copy_json(parent.intake_form),
        category=parent.category,
        account=user.account,
        author=user,
        parent_tree=parent,
        # A fork of a fork keeps pointing at the original (null if that was deleted).
        root_tree=parent.root_tree if parent.is_fork else parent,
        fork_depth=parent.fork_depth + 1,
        fork_reason=fork_reason.strip(),
        parent_updated_at=parent.updated_at,
        # The common ancestor for later merges of the parent's changes.
        parent_version=parent.live_version(),
    )
    fork.tags.set(parent.tags.all())
    _audit(AuditAction.FLOW_FORKED, fork, user, parent=str(parent.pk), parent_name=parent.name)
    return fork


# --- import ---------------------------------------------------------------------------------

MAX_IMPORT_TAGS = 20


def _text(document: dict, key: str, limit: int, *, required: bool = False) -> Any:
    value = document.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({key: f"{key} must be text."})
    if required and not value.strip():
        raise ValidationError({key: f"The file has no {key}."})
    if len(value) > limit:
        raise ValidationError({key: f"{key} is longer than {limit:,} characters."})
    return value.strip() if key != "description" else value


def import_fields(document: Any) -> dict[str, Any]:
    """The `tree_create` arguments of an export document; ValidationError names the field."""
    if not isinstance(document, dict):
        raise ValidationError("The file must hold one JSON object, an exported flow.")
    if document.get("format") != selectors.EXPORT_FORMAT:
        expected = selectors.EXPORT_FORMAT
        raise ValidationError(
            {"format": f"This is not a ResolutionFlow export (format must be '{expected}')."}
        )
    version = document.get("version")
    if type(version) is not int or version != selectors.EXPORT_VERSION:
        shown = version if type(version) is int else "missing or not a number"
        raise ValidationError(
            {
                "version": f"Export version {shown} is not supported; this ResolutionFlow "
                f"reads version {selectors.EXPORT_VERSION}."
            }
        )
    tree_type = document.get("tree_type")
    if not isinstance(tree_type, str) or tree_type not in TreeType.values:
        raise ValidationError(
            {"tree_type": f"tree_type must be one of {', '.join(TreeType.values)}."}
        )
    tags = document.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 50 for t in tags):
        raise ValidationError({"tags": "tags must be a list of names of up to 50 characters."})
    if len(tags) > MAX_IMPORT_TAGS:
        raise ValidationError({"tags": f"A flow has at most {MAX_IMPORT_TAGS} tags."})
    if "tree_structure" not in document:
        raise ValidationError({"tree_structure": "The file has no tree_structure."})
    intake_form = document.get("intake_form")
    return {
        "name": _text(document, "name", FORK_TEXT_LIMIT, required=True),
        "description": _text(document, "description", structure.MAX_TEXT),
        "category": _text(document, "category", 100) or None,
        "tags": tags,
        "tree_type": tree_type,
        "tree_structure": document["tree_structure"],
        "intake_form": [] if intake_form is None else intake_form,
    }


@transaction.atomic
def tree_import(*, user: User, document: Any) -> Tree:
    """A new draft from an export document (see `selectors.tree_export`), after validation.

    Drafts may be incomplete, so only the draft checks apply here; publishing checks the rest.
    Nothing is created when any check fails."""
    ensure_can_create(user=user)
    tree = tree_create(user=user, **import_fields(document))
    _audit(AuditAction.FLOW_IMPORTED, tree, user)
    return tree


def tree_import_file(*, user: User, content: bytes) -> Tree:
    """Import an uploaded file: size and JSON syntax are checked before anything else."""
    ensure_can_create(user=user)
    return tree_import(user=user, document=structure.parse_json(content))


# --- search ---------------------------------------------------------------------------------

# A flow's search vector, computed by PostgreSQL from the row as saved: name (A), description
# (B), category and tags (C), the step titles of the live structure (D; never a working copy).
# flows/migrations/0004_search_vector.py holds a frozen copy for the backfill.
SEARCH_VECTOR_SQL = """
setweight(to_tsvector('english', regexp_replace(
    coalesce(flows_tree.name, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
|| setweight(to_tsvector('english', regexp_replace(
    coalesce(flows_tree.description, ''), '[^[:alnum:]]+', ' ', 'g')), 'B')
|| setweight(to_tsvector('english', regexp_replace(concat_ws(' ',
    (SELECT c.name FROM flows_category c WHERE c.id = flows_tree.category_id),
    (SELECT string_agg(t.name, ' ') FROM flows_tag t
        JOIN flows_tree_tags tt ON tt.tag_id = t.id WHERE tt.tree_id = flows_tree.id)
), '[^[:alnum:]]+', ' ', 'g')), 'C')
|| setweight(to_tsvector('english', regexp_replace(array_to_string(ARRAY(
    SELECT v #>> '{}' FROM jsonb_path_query(flows_tree.tree_structure,
        'strict $.**.title', '{}', true) AS v
), ' '), '[^[:alnum:]]+', ' ', 'g')), 'D')
"""
# The fields the vector is made of: a save naming none of them leaves it as it is.
SEARCH_FIELDS = frozenset({"name", "description", "category", "category_id", "tree_structure"})


def trees_search_refresh(*, trees: QuerySet[Tree]) -> int:
    """Recompute these flows' search vectors in one UPDATE (PostgreSQL; SQLite has none).

    Called by the receivers in flows/signals.py after every save, tag change, and category or
    tag rename, so no write path (services, admin, import, loader) can leave a stale vector."""
    if not is_postgres():
        return 0
    return trees.order_by().update(search_vector=RawSQL(SEARCH_VECTOR_SQL, []))


# --- pulling a parent's changes into a fork -------------------------------------------------


def fork_merge(
    tree: Tree, user: User, resolutions: dict[str, Any] | None = None
) -> merge.MergeResult:
    """The fork's working copy (structure and intake form) with the parent's changes since
    the fork (or last pull) merged in; nothing is written. Raises ValidationError when there
    is no parent (that the user can see, published) to pull from, and `MergeEditInvalid`
    when an `edit` resolution breaks the editor's rules."""
    from flows import editor  # the editor's rules; editor builds on this module

    parent = tree.parent_tree
    visible = parent is not None and Tree.objects.for_user(user).filter(pk=parent.pk).exists()
    if not visible or not parent.is_published:
        raise ValidationError("This flow has no published parent to pull changes from.")
    base = tree.parent_version
    mine = tree.editing_structure
    other_ids = structure.node_index(tree.tree_type, parent.tree_structure).keys()
    refused: dict[str, list[structure.StructureError]] = {}

    def clean_edit(conflict: merge.Conflict, edit: Any) -> dict | None:
        try:
            if conflict.scope == merge.INTAKE:
                return editor.intake_edit_clean(name=conflict.key, edit=edit)
            return editor.node_edit_clean(
                tree_type=tree.tree_type,
                structure=mine,
                node=conflict.side,
                edit=edit,
                user=user,
                other_ids=other_ids,
            )
        except structure.StructureInvalid as invalid:
            refused[conflict.id] = invalid.errors
            return None

    result = merge.merge(
        tree.tree_type,
        base=base.tree_structure if base else None,
        theirs=parent.tree_structure,
        mine=mine,
        resolutions=resolutions,
        intake=(base.intake_form if base else None, parent.intake_form, tree.editing_intake_form),
        clean_edit=clean_edit,
    )
    if refused:
        raise MergeEditInvalid(refused)
    return result


def resolution_valid(value: Any) -> bool:
    return value in merge.RESOLUTIONS or (
        merge.is_edit(value) and isinstance(value[merge.EDIT], dict)
    )


@transaction.atomic
def tree_pull_parent(
    *,
    tree: Tree,
    user: User,
    resolutions: dict[str, Any] | None = None,
    revision: int | None = None,
) -> merge.MergeResult:
    """Merge the parent's changes (structure and intake form) into the fork's working copy.
    Written only when every conflict has a resolution (`theirs`, `mine` or `{"edit": …}`,
    checked by the editor's rules); then the parent's live version becomes the base of the
    next pull. Nothing is published: the owner publishes as usual."""
    ensure_can_edit(tree=tree, user=user)
    if not all(resolution_valid(v) for v in (resolutions or {}).values()):
        raise ValidationError(
            {"resolutions": "Each resolution must be 'theirs', 'mine' or {\"edit\": {…}}."}
        )
    tree = locked(tree)
    check_revision(tree, revision)
    result = fork_merge(tree, user, resolutions)
    if result.unresolved:
        return result
    parent = tree.parent_tree
    changed = ["parent_version", "parent_updated_at"]
    if result.structure != tree.editing_structure or result.intake_form != tree.editing_intake_form:
        changed += content_write(
            tree, tree_structure=result.structure, intake_form=result.intake_form
        )
    tree.parent_version = parent.live_version()
    tree.parent_updated_at = parent.updated_at
    tree.save(update_fields=sorted(set(changed)))
    _audit(
        AuditAction.FLOW_MERGED,
        tree,
        user,
        parent=str(parent.pk),
        applied=len(result.applied) + len(result.applied_intake),
        conflicts=len(result.conflicts),
        edited=sum(1 for c in result.conflicts if c.resolution == merge.EDIT),
    )
    return result


# --- custom steps proposed back -------------------------------------------------------------


def title_key(title: str) -> str:
    """A step title as compared for "the same step": lower case, punctuation and repeated
    spaces gone."""
    words = "".join(ch if ch.isalnum() else " " for ch in title.casefold()).split()
    return " ".join(words)[:255]


@transaction.atomic
def tree_step_insert(
    *,
    tree: Tree,
    user: User,
    after_id: str,
    title: str,
    description: str = "",
    commands: Any = None,
) -> dict[str, Any]:
    """Add a step to a checklist's working copy right after step `after_id` (accepting a
    proposed custom step); the new step, whose id is made from its title."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    if not tree.is_checklist:
        raise ValidationError("Only procedural and maintenance flows have steps.")
    data = nodes.copy_json(tree.editing_structure)
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise ValidationError("This flow has no steps to insert after.")
    at = next(
        (i for i, s in enumerate(steps) if isinstance(s, dict) and s.get("id") == after_id), None
    )
    if at is None:
        raise ValidationError({"after": f"There is no step “{after_id}” in this flow any more."})
    taken = {str(s.get("id")) for s in steps if isinstance(s, dict)}
    step = {
        "id": nodes.claim_unique(slugify(title)[:60] or "step", taken),
        "type": "procedure_step",
        "title": title.strip(),
        "description": description,
        "commands": structure.normalise_commands(commands),
    }
    steps.insert(at + 1, step)
    changed = content_write(tree, tree_structure=data, intake_form=tree.editing_intake_form)
    tree.save(update_fields=sorted(set(changed)))
    return step


@transaction.atomic
def step_suggestion_dismiss(*, tree: Tree, user: User, title: str) -> None:
    """Hide the suggestion to add this title (and near-same spellings of it) to the flow."""
    ensure_can_edit(tree=tree, user=user)
    StepSuggestionDismissal.objects.get_or_create(
        tree=tree, title_key=title_key(title), defaults={"dismissed_by": user}
    )
