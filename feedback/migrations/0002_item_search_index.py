"""A GIN index over backlog items' weighted title and description vector, so
the inbox's similar-item search (feedback/similarity.py, same expression)
finds candidates through the index instead of parsing every item. PostgreSQL
only: SQLite has no full-text search and uses the Python fallback. It lives
here, not in backlog/, because only this app searches items this way."""

from django.db import migrations

INDEX = "feedback_item_search"
# Frozen copy of feedback.similarity.ITEM_VECTOR_SQL as of this migration
# (tests/feedback/test_similarity.py checks that the search still uses it).
VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("backlog", "Item")._meta.db_table)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (({VECTOR}))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("backlog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
