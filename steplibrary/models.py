"""The step library: reusable steps, hand-made or synced from published flows (SPEC §6)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.querysets import AccountScopedQuerySet

if TYPE_CHECKING:
    from accounts.models import User
    from flows.models import Category, Tag, Tree


class StepType(models.TextChoices):
    ACTION = "action", "Action"
    SOLUTION = "solution", "Solution"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    TEAM = "team", "Team"
    PUBLIC = "public", "Public"


def empty_content() -> dict[str, Any]:
    return {"instructions": "", "help_text": "", "commands": [], "group_label": ""}


def search_text_for(title: str, content: Any) -> str:
    """What search matches: title, instructions, help text, group label and every command.

    Stored lower-cased in one column so one LIKE per word (and, on PostgreSQL, one trigram
    index) serves the search; JSON key lookups cannot be indexed the same way on both databases.
    """
    content = content if isinstance(content, dict) else {}
    parts = [title]
    parts += [content.get(key) for key in ("instructions", "help_text", "group_label")]
    for command in content.get("commands") or []:
        if isinstance(command, dict):
            parts += [command.get("label"), command.get("command")]
    return "\n".join(p for p in parts if isinstance(p, str) and p).lower()


class LibraryStepQuerySet(AccountScopedQuerySet["LibraryStep"]):
    def visible_q(self, user: User) -> Q:
        """Private → creator, team → the account, public → everyone signed in."""
        visible = Q(visibility=Visibility.PUBLIC) | Q(created_by_id=user.pk)
        if user.account_id is not None:
            visible |= Q(visibility=Visibility.TEAM, account_id=user.account_id)
        return visible

    def active(self) -> LibraryStepQuerySet:
        return self.filter(is_active=True)

    def with_card_data(self) -> LibraryStepQuerySet:
        """Everything a card renders (including the source flow's category and tags, which
        synced entries show as their own) in a fixed number of queries."""
        return self.select_related(
            "created_by", "category", "source_tree", "source_tree__category"
        ).prefetch_related("tags", "source_tree__tags")


class LibraryStep(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=255)
    step_type = models.CharField(max_length=16, choices=StepType.choices, default=StepType.ACTION)
    content = models.JSONField(
        default=empty_content,
        blank=True,
        help_text="{instructions, help_text, commands: [{label, command, command_type}], "
        "group_label}",
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="library_steps",
    )
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="library_steps",
        help_text="Empty for official content.",
    )
    category = models.ForeignKey(
        "flows.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="library_steps",
    )
    tags = models.ManyToManyField("flows.Tag", blank=True, related_name="library_steps")
    usage_count = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    # Sync: an entry owned by a node of a published flow. The unique constraint below both
    # indexes source_tree and is the conflict target of the sync's upsert.
    source_tree = models.ForeignKey(
        "flows.Tree",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="library_steps",
        db_index=False,
    )
    source_node_id = models.CharField(max_length=100, blank=True, default="")
    is_flow_synced = models.BooleanField(default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    search_text = models.TextField(blank=True, default="", editable=False)
    # PostgreSQL's ranked search (steplibrary.services.SEARCH_VECTOR_SQL); a GIN index made by
    # the migration. Empty on SQLite, which searches search_text instead.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LibraryStepQuerySet.as_manager()

    class Meta:
        ordering = ["-usage_count", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_tree", "source_node_id"], name="librarystep_source_node_uniq"
            ),
        ]
        indexes = [
            # The library page: active entries by type, most used first.
            models.Index(fields=["is_active", "step_type"], name="librarystep_active_type_idx"),
            models.Index(fields=["-usage_count", "title"], name="librarystep_usage_idx"),
            # for_user(): team entries of an account, public entries.
            models.Index(fields=["account", "visibility"], name="librarystep_account_vis_idx"),
            models.Index(fields=["visibility", "is_active"], name="librarystep_vis_idx"),
            models.Index(fields=["is_flow_synced", "is_active"], name="librarystep_synced_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = search_text_for(self.title, self.content)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"title", "content"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    # --- content, read leniently (the JSON may come from the admin) --------------------------

    def _text(self, key: str) -> str:
        value = self.content.get(key) if isinstance(self.content, dict) else None
        return value if isinstance(value, str) else ""

    @property
    def instructions(self) -> str:
        return self._text("instructions")

    @property
    def help_text(self) -> str:
        return self._text("help_text")

    @property
    def group_label(self) -> str:
        return self._text("group_label")

    @property
    def commands(self) -> list[dict[str, str]]:
        items = self.content.get("commands") if isinstance(self.content, dict) else None
        return [
            {
                "label": str(item.get("label") or ""),
                "command": str(item.get("command") or ""),
                "command_type": str(item.get("command_type") or "shell"),
            }
            for item in items or []
            if isinstance(item, dict)
        ]

    def as_custom_step(self) -> dict[str, Any]:
        """This entry as a session's custom step: title, instructions (with the help text as
        the expected outcome) and commands in the flow's {language, code, label} shape."""
        instructions = self.instructions
        if self.help_text:
            instructions = f"{instructions}\n\nExpected: {self.help_text}".strip()
        return {
            "title": self.title,
            "instructions": instructions,
            "commands": [
                {"language": c["command_type"], "code": c["command"], "label": c["label"]}
                for c in self.commands
            ],
        }

    # --- what cards show: synced entries wear their flow's category and tags ----------------

    @property
    def shown_category(self) -> Category | None:
        if self.is_flow_synced and self.source_tree is not None:
            return self.source_tree.category
        return self.category

    @property
    def shown_tags(self) -> list[Tag]:
        if self.is_flow_synced and self.source_tree is not None:
            return list(self.source_tree.tags.all())
        return list(self.tags.all())

    @property
    def is_read_only(self) -> bool:
        return self.is_flow_synced

    def source_visible_to(self, user: User) -> bool:
        """May this user see the source flow (its name and link)? The flows' own tenancy rule,
        evaluated on the loaded flow without a query: a public entry of another account's flow
        must not reveal that flow."""
        from flows.models import Tree

        tree: Tree | None = self.source_tree
        return tree is not None and Tree.objects.allows(tree, user)

    # --- rights (views answer 403 when these say no) ----------------------------------------

    def can_be_edited_by(self, user: User) -> bool:
        """The creator, the account's engineers for shared entries, staff. Synced entries are
        refused separately (read-only, 400), before this check."""
        if user.is_staff:
            return True
        if not user.can_edit_content:
            return False
        if self.created_by_id == user.pk:
            return True
        return (
            self.visibility != Visibility.PRIVATE
            and self.account_id is not None
            and self.account_id == user.account_id
        )

    def can_be_deleted_by(self, user: User) -> bool:
        """The creator, the account's admins/owners for shared entries, staff (SPEC §2)."""
        if user.is_staff:
            return True
        if not user.can_edit_content:
            return False
        if self.created_by_id == user.pk:
            return True
        return (
            user.can_manage_account
            and self.visibility != Visibility.PRIVATE
            and self.account_id is not None
            and self.account_id == user.account_id
        )
