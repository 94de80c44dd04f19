"""factory-boy factories for the models the tests need."""

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
