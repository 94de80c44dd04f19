"""The default flows that ship with ResolutionFlow (JSON files in `flows/defaults/`).

Each file carries a stable `key`; loading upserts on it, so renaming a flow in a later release
updates it in place. An unchanged flow is not saved again, so forks of it do not see a phantom
"parent updated since you forked".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.services import service_account_ensure
from flows import structure
from flows.models import Tree, TreeStatus
from flows.services import category_for, tags_for, version_record

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
CONTENT_FIELDS = ("name", "description", "tree_type", "tree_structure", "intake_form")


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


class DefaultFlowInvalid(Exception):
    pass


def default_flow_documents(directory: Path = DEFAULTS_DIR) -> list[dict[str, Any]]:
    """Read and validate every default flow; a broken file is a bug in the release."""
    documents = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("key") != path.stem:
            raise DefaultFlowInvalid(f"{path.name}: key must equal the file name.")
        errors = structure.validate_structure(document["tree_type"], document["tree_structure"])
        errors += structure.validate_intake_form(document.get("intake_form", []))
        if errors:
            details = "; ".join(str(e) for e in errors)
            raise DefaultFlowInvalid(f"{path.name}: {details}")
        documents.append(document)
    return documents


def has_changed(tree: Tree, document: dict[str, Any]) -> bool:
    if any(getattr(tree, name) != document.get(name, []) for name in CONTENT_FIELDS):
        return True
    category = document.get("category") or ""
    if (tree.category.name if tree.category else "") != category:
        return True
    return sorted(t.name for t in tree.tags.all()) != sorted(document.get("tags", []))


@transaction.atomic
def default_flows_load(directory: Path = DEFAULTS_DIR) -> LoadReport:
    """Create or update the default flows: public, owned by the service account, new ones
    published."""
    owner = service_account_ensure()
    report = LoadReport()
    existing = {
        t.default_key: t
        for t in Tree.objects.filter(default_key__isnull=False).prefetch_related("tags")
    }
    for document in default_flow_documents(directory):
        key = document["key"]
        tree = existing.get(key)
        if tree is not None and not has_changed(tree, document):
            report.unchanged.append(key)
            continue
        if tree is None:
            tree = Tree(
                default_key=key,
                status=TreeStatus.PUBLISHED,
                published_at=timezone.now(),
            )
            report.created.append(key)
        else:
            report.updated.append(key)
        for name in CONTENT_FIELDS:
            setattr(tree, name, document.get(name, []))
        # An upgrade changes the live content: open editors and API clients are now stale.
        tree.revision += 1
        tree.category = category_for(document.get("category"))
        tree.account = None
        tree.author = owner
        tree.is_public = True
        tree.is_default = True
        # Status and retirement of an existing default stay as staff left them.
        tree.save()
        tree.tags.set(tags_for(document.get("tags", [])))
        if tree.is_published:
            note = (
                "Shipped with ResolutionFlow."
                if key in report.created
                else "Updated by ResolutionFlow."
            )
            version_record(tree=tree, user=owner, note=note)
    return report
