"""Issue 10, "public is for staff": take back what non-staff shared with every team.

A synced step is public only if its flow is public; a hand-made entry only if staff made it.
Entries of a team become Team; an entry without a team becomes Private to its creator."""

from django.db import migrations
from django.db.models import Q


def narrow_public_steps(apps, schema_editor):
    LibraryStep = apps.get_model("steplibrary", "LibraryStep")
    public = LibraryStep.objects.filter(visibility="public")
    wrong = public.filter(
        Q(is_flow_synced=True) & ~Q(source_tree__is_public=True)
        | Q(is_flow_synced=False) & ~Q(created_by__is_staff=True)
    )
    wrong.filter(account__isnull=False).update(visibility="team")
    wrong.filter(account__isnull=True).update(visibility="private")


class Migration(migrations.Migration):
    dependencies = [
        ("steplibrary", "0002_search_trigram_index"),
        ("flows", "0003_repair_flow_content"),
    ]

    operations = [migrations.RunPython(narrow_public_steps, migrations.RunPython.noop)]
