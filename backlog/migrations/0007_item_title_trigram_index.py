"""The command palette's title search (backlog/search.py): pg_trgm and a
trigram GIN index on items' titles, which serves both ``title ILIKE '%w%'``
and the fuzzy ``w <% title``. PostgreSQL only (the extension needs a role
allowed to create it; pg_trgm is a trusted extension since PostgreSQL 13, so
the database owner may); on SQLite this migration does nothing and the
search falls back to substrings."""

from django.db import migrations

INDEX = "backlog_item_title_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("backlog", "Item")._meta.db_table)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (title gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("backlog", "0006_metrics_app")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
