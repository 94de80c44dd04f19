"""On PostgreSQL, a trigram index so the library search (LIKE '%word%' on search_text) does not
scan every entry. SQLite has no such index type: there it is a no-op, as it is on a PostgreSQL
server without the pg_trgm extension or the right to create it."""

from django.db import DatabaseError, migrations, transaction

INDEX = "librarystep_search_trgm_idx"
TABLE = "steplibrary_librarystep"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return  # no right to create extensions: search still works, unindexed
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (search_text gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("steplibrary", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
