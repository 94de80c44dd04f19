"""factory-boy factories for the models the tests need."""

import random

import factory
from django.utils.text import slugify

from accounts.models import Account, Role, User
from flows.models import Category, Tag, Tree, TreeStatus, TreeType

TEST_PASSWORD = "correct-horse-battery"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"MSP {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    account = factory.SubFactory(AccountFactory)
    role = Role.ENGINEER
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


def troubleshooting_structure() -> dict:
    return {
        "id": "root",
        "type": "decision",
        "question": "Does the tunnel show as down on both peers?",
        "options": [
            {"label": "Yes", "next_node_id": "restart"},
            {"label": "No", "next_node_id": "fixed"},
        ],
        "children": [
            {
                "id": "restart",
                "type": "action",
                "title": "Restart the VPN service",
                "description": "Bounce the tunnel from the firewall UI.",
                "commands": "diag vpn tunnel reset",
                "next_node_id": "root",
            },
            {"id": "fixed", "type": "solution", "title": "Tunnel restored", "description": "Ok"},
        ],
    }


def big_troubleshooting_structure(count: int = 100, seed: int = 16) -> dict:
    """A valid troubleshooting tree of exactly `count` nodes with 1–4 options per question,
    actions that loop back to their question or jump across to the first solution."""
    rng = random.Random(seed)
    root = {"id": "q0", "type": "decision", "question": "Question 0: is the service up?"}
    root.update(options=[], children=[])
    made, open_questions = 1, [root]
    first_solution = None
    while made < count:
        question = open_questions.pop(0) if open_questions else root
        for _ in range(rng.randint(1, 4)):
            if made >= count:
                break
            kind = "solution" if first_solution is None else rng.choice(NODE_MIX)
            node_id = f"{kind[0]}{made}"
            node: dict = {"id": node_id, "type": kind}
            if kind == "decision":
                node.update(question=f"Question {made}: does step {made} pass?")
                node.update(options=[], children=[])
                open_questions.append(node)
            elif kind == "action":
                node["title"] = f"Action {made}: restart component {made}"
                node["next_node_id"] = rng.choice([question["id"], first_solution])
            else:
                node["title"] = f"Solution {made}: fixed by change {made}"
                first_solution = first_solution or node_id
            question["children"].append(node)
            label = f"Answer {len(question['options']) + 1} of {question['id']}"
            question["options"].append({"label": label, "next_node_id": node_id})
            made += 1
    for question in open_questions:  # ran out of nodes before it got an answer
        if not question["options"] and question is not root:
            number = question["id"][1:]
            question.clear()
            question.update(id=f"d{number}", type="solution", title=f"Solution {number}: done")
    return root


NODE_MIX = ("decision", "decision", "action", "solution")


def procedural_structure() -> dict:
    return {
        "steps": [
            {"id": "prep", "type": "section_header", "title": "Preparation"},
            {
                "id": "snapshot",
                "type": "procedure_step",
                "title": "Take a snapshot",
                "description": "Snapshot [VAR:server] before patching.",
                "commands": [{"language": "powershell", "label": "Check", "code": "Get-VM"}],
            },
            {"id": "patch", "type": "procedure_step", "title": "Install updates"},
            {"id": "end", "type": "procedure_end", "title": "Done"},
        ]
    }


class TreeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tree
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Flow {n}")
    description = "A flow for tests."
    tree_type = TreeType.TROUBLESHOOTING
    status = TreeStatus.PUBLISHED
    account = factory.SubFactory(AccountFactory)
    author = factory.SubFactory(UserFactory, account=factory.SelfAttribute("..account"))
    tree_structure = factory.LazyAttribute(
        lambda o: (
            troubleshooting_structure()
            if o.tree_type == TreeType.TROUBLESHOOTING
            else procedural_structure()
        )
    )

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.tags.set(extracted)


class LibraryStepFactory(factory.django.DjangoModelFactory):
    """A hand-made library entry (synced ones come from publishing a flow)."""

    class Meta:
        model = "steplibrary.LibraryStep"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Library step {n}")
    content = factory.LazyAttribute(
        lambda o: {
            "instructions": f"Do {o.title}.",
            "help_text": "",
            "commands": [],
            "group_label": "",
        }
    )
    visibility = "team"
    created_by = factory.SubFactory(UserFactory)
    account = factory.SelfAttribute("created_by.account")

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.tags.set(extracted)
