"""Ranked search of library steps on PostgreSQL: a stored, weighted search vector with a GIN
index, filled for every existing entry; a full-text index on the title (title matches first)
and a trigram index on it (typos). On SQLite the column stays empty.

The vector SQL is a frozen copy of steplibrary.services.SEARCH_VECTOR_SQL at the time of
writing."""

import django.contrib.postgres.search
from django.db import migrations

VECTOR_INDEX = "librarystep_search_vector_idx"
TITLE_FTS_INDEX = "librarystep_title_fts_idx"  # "title matches first" when a search finds many
TITLE_TRGM_INDEX = "librarystep_title_trgm_idx"  # typos, when full text finds nothing

VECTOR_SQL = """
setweight(to_tsvector('english', regexp_replace(
    coalesce(steplibrary_librarystep.title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
|| setweight(to_tsvector('english', regexp_replace(concat_ws(' ',
    steplibrary_librarystep.content ->> 'instructions',
    steplibrary_librarystep.content ->> 'help_text',
    steplibrary_librarystep.content ->> 'group_label'
), '[^[:alnum:]]+', ' ', 'g')), 'B')
|| setweight(to_tsvector('english', regexp_replace(concat_ws(' ',
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
), '[^[:alnum:]]+', ' ', 'g')), 'C')
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"UPDATE steplibrary_librarystep SET search_vector = {VECTOR_SQL}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON steplibrary_librarystep "
        "USING gin (search_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_FTS_INDEX} ON steplibrary_librarystep "
        "USING gin ("
        "to_tsvector('english', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')))"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return  # 0002 could not create pg_trgm: typo matching stays off
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_TRGM_INDEX} ON steplibrary_librarystep "
        "USING gin (title gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in (TITLE_TRGM_INDEX, TITLE_FTS_INDEX, VECTOR_INDEX):
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


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
