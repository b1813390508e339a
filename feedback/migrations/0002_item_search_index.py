"""A GIN index over backlog items' weighted title and description vector, so
the inbox's similar-item search (feedback/similarity.py, same expression)
finds candidates through the index instead of parsing every item. PostgreSQL
only: SQLite has no full-text search and uses the Python fallback. It lives
here, not in backlog/, because only this app searches items this way."""

from django.db import migrations

from feedback.similarity import ITEM_VECTOR_SQL

INDEX = "feedback_item_search"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("backlog", "Item")._meta.db_table)
    vector = ITEM_VECTOR_SQL.format(title="title", description="description")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (({vector}))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("backlog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
