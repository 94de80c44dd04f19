"""Ranked search of flows on PostgreSQL: a stored, weighted search vector with a GIN index,
filled for every existing flow; a full-text index on the name (name matches first); and a
trigram index on the name for typo matches (where the pg_trgm extension may be created, as
steplibrary 0002 does). On SQLite the column stays empty.

The vector SQL is a frozen copy of flows.services.SEARCH_VECTOR_SQL at the time of writing."""

import django.contrib.postgres.search
from django.db import DatabaseError, migrations, transaction

VECTOR_INDEX = "tree_search_vector_idx"
NAME_FTS_INDEX = "tree_name_fts_idx"  # "name matches first" when a search finds many flows
NAME_TRGM_INDEX = "tree_name_trgm_idx"  # typos, when full text finds nothing

VECTOR_SQL = """
setweight(to_tsvector('english', regexp_replace(
    coalesce(flows_tree.name, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
|| setweight(to_tsvector('english', regexp_replace(
    coalesce(flows_tree.description, ''), '[^[:alnum:]]+', ' ', 'g')), 'B')
|| setweight(to_tsvector('english', regexp_replace(concat_ws(' ',
    (SELECT c.name FROM flows_category c WHERE c.id = flows_tree.category_id),
    (SELECT string_agg(t.name, ' ') FROM flows_tag t
        JOIN flows_tree_tags tt ON tt.tag_id = t.id WHERE tt.tree_id = flows_tree.id)
), '[^[:alnum:]]+', ' ', 'g')), 'C')
|| setweight(to_tsvector('english', regexp_replace(array_to_string(ARRAY(
    SELECT v #>> '{}' FROM jsonb_path_query(flows_tree.tree_structure,
        'strict $.**.title', '{}', true) AS v
), ' '), '[^[:alnum:]]+', ' ', 'g')), 'D')
"""


def trigram_extension(schema_editor) -> bool:
    """pg_trgm exists, or could be created here."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return False
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return False  # no right to create extensions: typo matching stays off
    return True


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"UPDATE flows_tree SET search_vector = {VECTOR_SQL}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON flows_tree USING gin (search_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME_FTS_INDEX} ON flows_tree "
        "USING gin ("
        "to_tsvector('english', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')))"
    )
    if trigram_extension(schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME_TRGM_INDEX} ON flows_tree "
            "USING gin (name gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_TRGM_INDEX}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_FTS_INDEX}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("flows", "0003_repair_flow_content")]

    operations = [
        migrations.AddField(
            model_name="tree",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
