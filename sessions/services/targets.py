"""Writes on target lists: the saved sets of hosts a maintenance batch is launched on."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from sessions.models import TargetList
from sessions.services.runs import clean_text

MAX_TARGETS = 1000


def targets_parse(text: str) -> list[dict[str, str]]:
    """One target per line: `LABEL` or `LABEL | notes`. Blank lines are dropped."""
    targets = []
    for line in (text or "").splitlines():
        label, _, notes = line.partition("|")
        if label.strip():
            targets.append({"label": label.strip(), "notes": notes.strip()})
    return targets


def targets_clean(targets: Any) -> list[dict[str, str]]:
    """Trimmed, non-blank, unique (case-insensitively) labels; at most MAX_TARGETS."""
    if not isinstance(targets, list):
        raise ValidationError({"targets": "Targets are a list of {label, notes}."})
    cleaned: list[dict[str, str]] = []
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for item in targets:
        raw = item if isinstance(item, dict) else {"label": item}
        label = str(raw.get("label") or "").strip()
        if not label:
            continue
        if len(label) > 200:
            raise ValidationError({"targets": f"“{label[:40]}…” is longer than 200 characters."})
        if label.lower() in seen:
            duplicates.append(label)
            continue
        seen[label.lower()] = label
        cleaned.append({"label": label, "notes": str(raw.get("notes") or "").strip()[:1000]})
    if duplicates:
        raise ValidationError(
            {"targets": f"Duplicate targets: {', '.join(sorted(set(duplicates)))}."}
        )
    if len(cleaned) > MAX_TARGETS:
        raise ValidationError({"targets": f"At most {MAX_TARGETS:,} targets."})
    return cleaned


def ensure_can_manage_targets(user: User) -> None:
    if not user.can_edit_content or user.account_id is None:
        raise PermissionDenied("Engineers manage target lists.")


@transaction.atomic
def target_list_save(
    *,
    user: User,
    name: str,
    targets: Any,
    description: str = "",
    target_list: TargetList | None = None,
    default_variables: dict[str, Any] | None = None,
) -> TargetList:
    """Create a target list in the user's account, or update one. `default_variables` are
    intake answers a batch launched on the list starts with (None keeps the current ones)."""
    ensure_can_manage_targets(user)
    name = clean_text(name, name="name", limit=200).strip()
    if not name:
        raise ValidationError({"name": "Give the list a name."})
    cleaned = targets_clean(targets)
    if not cleaned:
        raise ValidationError({"targets": "Add at least one target."})
    if target_list is None:
        target_list = TargetList(account=user.account, created_by=user)
    target_list.name = name
    target_list.description = clean_text(description, name="description", limit=2000)
    target_list.targets = cleaned
    if default_variables is not None:
        target_list.default_variables = clean_defaults(default_variables)
    target_list.save()
    return target_list


def clean_defaults(values: Any) -> dict[str, str]:
    if not isinstance(values, dict) or len(values) > 100:
        raise ValidationError({"default_variables": "At most 100 {field name: value} pairs."})
    cleaned = {str(k).strip()[:100]: str(v or "").strip() for k, v in values.items()}
    if any(len(v) > 2000 for v in cleaned.values()):
        raise ValidationError({"default_variables": "A value has at most 2,000 characters."})
    return {k: v for k, v in cleaned.items() if k and v}


def target_list_delete(*, user: User, target_list: TargetList) -> None:
    ensure_can_manage_targets(user)
    target_list.delete()  # batches launched from it keep their sessions (FK set null)
