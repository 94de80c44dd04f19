"""Flows ("trees" in the data model): troubleshooting trees and procedural/maintenance lists."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role
from accounts.querysets import AccountScopedQuerySet
from flows import nodes, structure

if TYPE_CHECKING:
    from accounts.models import User


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# The flow types and their names come from the format table (flows/nodes.py).
TreeType = models.TextChoices(
    "TreeType", [(t.name.upper(), (t.name, t.label)) for t in nodes.TREE_TYPE_TABLE]
)


class TreeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class TreeQuerySet(AccountScopedQuerySet["Tree"]):
    def visible_q(self, user: User) -> Q:
        """Public published content plus the account's flows; drafts only for the account's
        engineers and above (the tenancy rule itself lives in AccountScopedQuerySet)."""
        public = Q(is_public=True, status=TreeStatus.PUBLISHED)
        if user.account_id is None:
            return public
        own = Q(account_id=user.account_id)
        if not user.has_role(Role.ENGINEER):
            own &= Q(status=TreeStatus.PUBLISHED)
        return public | own

    def runnable(self) -> TreeQuerySet:
        """Published and not retired: what the library lists and what can be run."""
        return self.filter(status=TreeStatus.PUBLISHED, is_active=True)

    def with_card_data(self) -> TreeQuerySet:
        """Everything a flow card renders, in a fixed number of queries."""
        return self.select_related("author", "category", "parent_tree").prefetch_related("tags")

    def for_lists(self) -> TreeQuerySet:
        """Cards without the structure JSON: a list never shows it, and it is the bulk of a row."""
        heavy = ("tree_structure", "intake_form", "draft_structure", "draft_intake_form")
        return self.with_card_data().defer(
            *heavy,
            "parent_tree__tree_structure",
            "parent_tree__intake_form",
            "parent_tree__draft_structure",
            "parent_tree__draft_intake_form",
        )


class Tree(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    tree_type = models.CharField(max_length=20, choices=TreeType.choices)
    status = models.CharField(max_length=12, choices=TreeStatus.choices, default=TreeStatus.DRAFT)
    tree_structure = models.JSONField(default=dict, blank=True)
    intake_form = models.JSONField(default=list, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="trees"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="trees")
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="trees",
        help_text="Empty for official content.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_trees",
    )
    is_public = models.BooleanField(default=False, help_text="Visible to every signed-in user.")
    is_default = models.BooleanField(default=False, help_text="Ships with ResolutionFlow.")
    default_key = models.SlugField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text="Stable key of a default flow, so reloading the defaults updates it in place.",
    )
    is_active = models.BooleanField(default=True, help_text="Off = retired: no new runs.")
    usage_count = models.PositiveIntegerField(default=0)

    parent_tree = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    root_tree = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="descendants"
    )
    fork_depth = models.PositiveIntegerField(default=0)
    fork_reason = models.CharField(max_length=255, blank=True)
    parent_updated_at = models.DateTimeField(null=True, blank=True)
    # The parent's version this fork was made from (or last pulled): the common ancestor of
    # a three-way merge. Null for forks made before versions existed (two-way compare only).
    parent_version = models.ForeignKey(
        "TreeVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The working copy of a published flow. The editor changes these instead of the live
    # structure, so engineers running the flow never see half-made edits; Publish applies
    # them and clears them. Null = no unpublished changes (drafts are edited in place).
    draft_structure = models.JSONField(null=True, blank=True)
    draft_intake_form = models.JSONField(null=True, blank=True)
    revision = models.PositiveIntegerField(
        default=0,
        help_text="Goes up with every structure change; an editor page from an older "
        "revision is refused instead of overwriting newer work.",
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # "Mark verified": an owner confirmed the content is still right (clears the stale flag).
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # PostgreSQL's ranked search (flows.services.SEARCH_VECTOR_SQL); a GIN index made by the
    # migration. Empty on SQLite, which searches the text columns instead.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = TreeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # The library: published + active, filtered by type, ordered by usage or name.
            models.Index(fields=["status", "is_active", "tree_type"], name="tree_library_idx"),
            models.Index(fields=["-usage_count", "name"], name="tree_usage_idx"),
            models.Index(fields=["account", "-updated_at"], name="tree_account_idx"),
            models.Index(fields=["is_public", "status"], name="tree_public_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_published(self) -> bool:
        return self.status == TreeStatus.PUBLISHED

    @property
    def is_fork(self) -> bool:
        return self.fork_depth > 0

    @property
    def is_runnable(self) -> bool:
        return self.is_published and self.is_active

    @property
    def is_checklist(self) -> bool:
        return self.tree_type in nodes.STEP_TREE_TYPES

    def normalised_structure(self) -> Any:
        return structure.normalise_structure(self.tree_type, self.tree_structure)

    def runnable_structure(self) -> Any:
        """What a run snapshots. A row stored before the shape rules that still fails them is
        taken repaired (the stored row stays for its author to fix), so a snapshot never holds
        a step the runner cannot address."""
        data = self.tree_structure
        if structure.validate_structure(self.tree_type, data, for_publish=False):
            data = structure.repair_structure(self.tree_type, data)
        return structure.normalise_structure(self.tree_type, data)

    def runnable_intake_form(self) -> list[dict]:
        """The intake form a run asks, repaired like the structure when it fails the rules."""
        form = self.intake_form or []
        if structure.validate_intake_form(form):
            form = structure.repair_intake_form(form)
        return form

    def publish_errors(self) -> list[structure.StructureError]:
        errors = structure.validate_structure(self.tree_type, self.tree_structure)
        errors += structure.validate_intake_form(self.intake_form)
        return errors

    @property
    def has_working_copy(self) -> bool:
        """A published flow with edits that are not published yet."""
        return self.draft_structure is not None or self.draft_intake_form is not None

    @property
    def editing_structure(self) -> Any:
        """What the editor shows and changes: the working copy, else the flow itself."""
        return self.tree_structure if self.draft_structure is None else self.draft_structure

    @property
    def editing_intake_form(self) -> Any:
        return self.intake_form if self.draft_intake_form is None else self.draft_intake_form

    def editing_errors(self) -> list[structure.StructureError]:
        """What publishing the editor's version would refuse."""
        errors = structure.validate_structure(self.tree_type, self.editing_structure)
        errors += structure.validate_intake_form(self.editing_intake_form)
        return errors

    @property
    def fork_info(self) -> dict[str, Any] | None:
        """Where a fork came from; None for originals. Reads `parent_tree` (select it)."""
        if not self.is_fork:
            return None
        parent = self.parent_tree
        return {
            "parent_tree_id": parent.pk if parent else None,
            "parent_tree_name": parent.name if parent else None,
            "fork_depth": self.fork_depth,
            "fork_reason": self.fork_reason,
            "has_parent_updates": bool(
                parent
                and self.parent_updated_at is not None
                and parent.updated_at > self.parent_updated_at
            ),
        }

    def live_version(self) -> TreeVersion | None:
        """The version engineers run now: the newest one, while the flow is published."""
        if not self.is_published:
            return None
        return self.versions.order_by("-number").first()

    def can_be_edited_by(self, user: User) -> bool:
        """Engineers+ edit their account's flows; official content is for staff."""
        if user.is_staff:
            return True
        return (
            self.account_id is not None
            and self.account_id == user.account_id
            and user.has_role(Role.ENGINEER)
        )


class VersionImmutable(Exception):
    """A published version is history: it is never changed after it was recorded."""


class TreeVersion(models.Model):
    """What one publish put live, numbered 1, 2, 3… per flow and never changed afterwards."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    tree_structure = models.JSONField(default=dict)
    intake_form = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tree", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tree", "number"], name="tree_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise VersionImmutable("A published version cannot be changed.")
        super().save(*args, **kwargs)


class StepSuggestionDismissal(models.Model):
    """An owner dismissed the suggestion to add a step with this (normalised) title to the flow:
    it is not proposed again, whoever adds it later."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="dismissed_suggestions")
    title_key = models.CharField(max_length=255)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tree", "title_key"], name="suggestion_dismissed_once")
        ]

    def __str__(self) -> str:
        return f"{self.tree_id}: {self.title_key}"
