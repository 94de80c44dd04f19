"""Writes on flows. Pages, the API, the admin and commands all come through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from flows import structure
from flows.models import Category, Tag, Tree, TreeStatus, TreeType


class PublishRefused(Exception):
    """Publishing found problems; `errors` names each node and what is wrong."""

    def __init__(self, errors: list[structure.StructureError]) -> None:
        super().__init__(f"{len(errors)} problem(s) must be fixed before publishing.")
        self.errors = errors


EDITABLE_FIELDS = {
    "name",
    "description",
    "tree_structure",
    "intake_form",
    "category",
    "tags",
    "is_public",
}


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
    """Drafts may be incomplete, but never of a shape or size we cannot store or render."""
    errors = structure.validate_structure(tree_type, tree_structure, for_publish=False)
    if not isinstance(intake_form, list):
        errors.append(structure.StructureError(None, "intake_form", "Must be a list of fields."))
    if errors:
        raise structure.StructureInvalid(errors)


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


@transaction.atomic
def tree_update(*, tree: Tree, user: User, **fields: Any) -> Tree:
    """Change a flow's details or structure. A published flow re-validates as it saves."""
    ensure_can_edit(tree=tree, user=user)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if fields.get("is_public") and not user.is_staff:
        raise PermissionDenied("Only staff can make a flow public.")
    tags = fields.pop("tags", None)
    if "category" in fields:
        fields["category"] = category_for(fields["category"])
    for name, value in fields.items():
        setattr(tree, name, value)
    check_draft(
        tree_type=tree.tree_type, tree_structure=tree.tree_structure, intake_form=tree.intake_form
    )
    if tree.is_published:
        # Engineers may be running it right now: a published flow stays valid.
        errors = tree.publish_errors()
        if errors:
            raise PublishRefused(errors)
    tree.save()
    if tags is not None:
        tree.tags.set(tags_for(tags))
    return tree


def locked(tree: Tree) -> Tree:
    """Re-read the row under a lock so two publishes or retires cannot interleave."""
    return Tree.objects.select_for_update().get(pk=tree.pk)


@transaction.atomic
def tree_publish(*, tree: Tree, user: User) -> Tree:
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    errors = tree.publish_errors()
    if errors:
        raise PublishRefused(errors)
    tree.status = TreeStatus.PUBLISHED
    tree.published_at = timezone.now()
    tree.save()
    return tree


@transaction.atomic
def tree_unpublish(*, tree: Tree, user: User) -> Tree:
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    tree.status = TreeStatus.DRAFT
    tree.save()
    return tree


@transaction.atomic
def tree_set_active(*, tree: Tree, user: User, active: bool) -> Tree:
    """Retire (active=False) hides a flow from the library and stops new runs; history stays."""
    ensure_can_edit(tree=tree, user=user)
    tree = locked(tree)
    tree.is_active = active
    tree.save()
    return tree
