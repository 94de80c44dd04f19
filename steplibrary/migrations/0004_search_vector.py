"""Ranked search of library steps on PostgreSQL: a stored, weighted search vector with a GIN
index, filled for every existing entry. Typo matching uses the trigram index of 0002 on
search_text. On SQLite the column stays empty.

The vector SQL is a frozen copy of steplibrary.services.SEARCH_VECTOR_SQL at the time of
writing."""

import django.contrib.postgres.search
from django.db import migrations

VECTOR_INDEX = "librarystep_search_vector_idx"

VECTOR_SQL = """
setweight(to_tsvector('english', coalesce(steplibrary_librarystep.title, '')), 'A')
|| setweight(to_tsvector('english', concat_ws(' ',
    steplibrary_librarystep.content ->> 'instructions',
    steplibrary_librarystep.content ->> 'help_text',
    steplibrary_librarystep.content ->> 'group_label'
)), 'B')
|| setweight(to_tsvector('english', concat_ws(' ',
    array_to_string(ARRAY(
        SELECT v #>> '{}' FROM jsonb_path_query(steplibrary_librarystep.content,
            'lax $.commands[*].label', '{}', true) AS v
    ), ' '),
    array_to_string(ARRAY(
        SELECT v #>> '{}' FROM jsonb_path_query(steplibrary_librarystep.content,
            'lax $.commands[*].command', '{}', true) AS v
    ), ' '),
    (SELECT string_agg(t.name, ' ') FROM flows_tag t
        JOIN steplibrary_librarystep_tags lt ON lt.tag_id = t.id
        WHERE lt.librarystep_id = steplibrary_librarystep.id),
    (SELECT string_agg(t.name, ' ') FROM flows_tag t
        JOIN flows_tree_tags tt ON tt.tag_id = t.id
        WHERE tt.tree_id = steplibrary_librarystep.source_tree_id
        AND steplibrary_librarystep.is_flow_synced)
)), 'C')
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"UPDATE steplibrary_librarystep SET search_vector = {VECTOR_SQL}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON steplibrary_librarystep "
        "USING gin (search_vector)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("steplibrary", "0003_public_steps_only_of_public_flows"),
        ("flows", "0004_search_vector"),
    ]

    operations = [
        migrations.AddField(
            model_name="librarystep",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
