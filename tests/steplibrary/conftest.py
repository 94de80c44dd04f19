import pytest

from flows.models import TreeStatus, TreeType
from steplibrary.models import LibraryStep, Visibility
from tests.factories import LibraryStepFactory, TreeFactory


def checklist(*steps: dict) -> dict:
    return {"steps": [*steps, {"id": "end", "type": "procedure_end", "title": "Done"}]}


def step(node_id: str, title: str, **extra) -> dict:
    return {"id": node_id, "type": "procedure_step", "title": title, **extra}


def header(node_id: str, title: str) -> dict:
    return {"id": node_id, "type": "section_header", "title": title}


def big_checklist(count: int) -> dict:
    """A checklist of `count` steps in sections of 50, each with a command (tests and bench)."""
    steps = []
    for n in range(count):
        if n % 50 == 0:
            steps.append(header(f"section-{n}", f"Section {n // 50 + 1}"))
        steps.append(
            step(
                f"step-{n}",
                f"Step {n}",
                description=f"Do thing {n} on [VAR:host].",
                expected_outcome="It worked.",
                commands=[{"language": "powershell", "label": "Run", "code": f"Invoke-Thing {n}"}],
            )
        )
    return checklist(*steps)


def synced(tree, node_id: str) -> LibraryStep:
    return LibraryStep.objects.get(source_tree=tree, source_node_id=node_id)


@pytest.fixture
def procedure(account, owner):
    """A published procedural flow of the account, synced to the library on creation."""
    return TreeFactory(
        name="Onboard a Microsoft 365 user",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=checklist(
            header("prep", "Preparation"),
            step(
                "licence",
                "Check a licence is free",
                description="Look for a spare E3 licence.",
                expected_outcome="At least one E3 licence is unassigned.",
                commands=[
                    {"language": "powershell", "label": "Licences", "code": "Get-MgSubscribedSku"}
                ],
            ),
            header("create", "Create the account"),
            step("new-user", "Create the user", commands="New-MgUser -DisplayName '[VAR:name]'"),
        ),
    )


@pytest.fixture
def draft_procedure(account, owner):
    return TreeFactory(
        name="Set up a domain controller",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.DRAFT,
        tree_structure=checklist(step("promote", "Promote the server", description="dcpromo")),
    )


@pytest.fixture
def rival_procedure(other_account, outsider):
    return TreeFactory(
        name="Rival secret procedure",
        account=other_account,
        author=outsider,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=checklist(step("secret", "Rival secret step")),
    )


@pytest.fixture
def official_procedure(db):
    return TreeFactory(
        name="Official Citrix checklist",
        account=None,
        author=None,
        is_public=True,
        is_default=True,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=checklist(step("drain", "Drain the server", description="Set drain mode.")),
    )


@pytest.fixture
def team_step(engineer):
    return LibraryStepFactory(
        title="Flush the DNS cache",
        created_by=engineer,
        visibility=Visibility.TEAM,
        content={
            "instructions": "Flush the resolver cache on the client.",
            "help_text": "",
            "commands": [
                {"label": "Flush", "command": "ipconfig /flushdns", "command_type": "cmd"}
            ],
            "group_label": "",
        },
    )


@pytest.fixture
def private_step(owner):
    return LibraryStepFactory(title="Alice's private trick", created_by=owner, visibility="private")


@pytest.fixture
def rival_step(outsider):
    return LibraryStepFactory(title="Rival team step", created_by=outsider, visibility="team")


@pytest.fixture
def public_step(outsider):
    return LibraryStepFactory(title="Rival shared step", created_by=outsider, visibility="public")
