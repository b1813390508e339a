"""Database expressions for the backlog's list reads, shared by the API's
item list and the backlog page: an item's tag names and objective ids (or
titles) as a list column of the row itself, and a product's short lists
(objectives, tags, saved views, members) as JSON columns of its row. The
vendor-specific SQL of the backlog's reads lives here."""

import json

from django.db.models import F, Field, Func

from products.models import Objective

from .models import Item, Tag


class ListColumn(Field):
    """The output field of a per-row list column: a PostgreSQL array arrives
    as a list, SQLite's JSON array as text."""

    def get_internal_type(self):
        return "TextField"

    def get_db_converters(self, connection):
        if connection.vendor == "postgresql":
            return []  # a list already: no call per row
        return super().get_db_converters(connection)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return []
        return json.loads(value) if isinstance(value, str) else value


class RowList(Func):
    """One row's related values as a list, in order, in the row itself:
    ``ARRAY(SELECT …)`` on PostgreSQL, a JSON array on SQLite. The page
    query evaluates it for the rows it returns only (after ``LIMIT``), each
    an index lookup on the join table, so tags and objectives of a page cost
    no query of their own (as in the raw-SQL baseline)."""

    output_field = ListColumn()
    select = source = order = ""  # SQL fragments of subclasses; %(row)s is the item id

    def __init__(self):
        super().__init__(F("pk"))

    def _fragments(self, compiler, connection):
        row, params = compiler.compile(self.source_expressions[0])
        qn = connection.ops.quote_name
        fragments = {"row": row, **{name: qn(t) for name, t in self.tables().items()}}
        return self.select % fragments, self.source % fragments, self.order % fragments, params

    def as_sql(self, compiler, connection, **extra_context):  # SQLite
        select, source, order, params = self._fragments(compiler, connection)
        # SQLite's aggregates take no ORDER BY before 3.44: order a subquery.
        sql = f"SELECT {select} AS v FROM {source} ORDER BY {order}"
        return f"(SELECT json_group_array(v) FROM ({sql}))", params

    def as_postgresql(self, compiler, connection, **extra_context):
        select, source, order, params = self._fragments(compiler, connection)
        # The aggregate sorts the item's few values itself: no Sort node in the plan.
        sql = f"SELECT array_agg({select} ORDER BY {order}) FROM {source}"
        return f"COALESCE(({sql}), '{{}}')", params


class TagNames(RowList):
    select = "row_tag.name"
    source = (
        "%(links)s row_link JOIN %(tags)s row_tag ON row_tag.id = row_link.tag_id "
        "WHERE row_link.item_id = %(row)s"
    )
    order = "row_tag.name"

    def tables(self):
        return {"links": Item.tags.through._meta.db_table, "tags": Tag._meta.db_table}


class ObjectiveIds(RowList):
    select = "row_link.objective_id"
    source = (
        "%(links)s row_link JOIN %(objectives)s row_objective "
        "ON row_objective.id = row_link.objective_id WHERE row_link.item_id = %(row)s"
    )
    order = "row_objective.position, row_objective.id"

    def tables(self):
        return {
            "links": Item.objectives.through._meta.db_table,
            "objectives": Objective._meta.db_table,
        }


class ObjectiveTitles(ObjectiveIds):
    """The objectives' titles, in the same order (the backlog page shows them)."""

    select = "row_objective.title"


class JsonText(Field):
    """The output field of JsonRows: JSON text, parsed."""

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        return [] if value is None else json.loads(value)


class JsonRows(Func):
    """A short list of rows that belong to the outer row, as one JSON array
    of objects in the outer row itself (PostgreSQL ``json_agg``, SQLite
    ``json_group_array``): the backlog page reads the product with its
    objectives, tags, saved views and members in one query, not five.

    ``model``'s rows aliased ``x`` (``join`` may add tables), those where
    ``where`` holds (``%(outer)s`` is the outer row's column), in ``order``;
    ``columns`` names the fields of each object (fields of ``model``)."""

    output_field = JsonText()

    def __init__(self, outer, *, model, columns, where, order, join=""):
        self.model, self.columns, self.join = model, columns, join
        self.where, self.order = where, order
        super().__init__(F(outer))

    def _parts(self, compiler, connection):
        outer, params = compiler.compile(self.source_expressions[0])
        qn = connection.ops.quote_name
        meta = self.model._meta
        columns = [(name, f"x.{qn(meta.get_field(name).column)}") for name in self.columns]
        where = self.where % {"outer": outer}
        return columns, f"FROM {qn(meta.db_table)} x {self.join} WHERE {where}", params

    def as_sql(self, compiler, connection, **extra_context):  # SQLite
        columns, source, params = self._parts(compiler, connection)
        inner = ", ".join(f"{col} AS {name}" for name, col in columns)
        pairs = ", ".join(f"'{name}', {name}" for name, _ in columns)
        sql = f"SELECT {inner} {source} ORDER BY {self.order}"
        return f"(SELECT json_group_array(json_object({pairs})) FROM ({sql}))", params

    def as_postgresql(self, compiler, connection, **extra_context):
        columns, source, params = self._parts(compiler, connection)
        pairs = ", ".join(f"'{name}', {col}" for name, col in columns)
        sql = f"SELECT json_agg(json_build_object({pairs}) ORDER BY {self.order}) {source}"
        return f"COALESCE(({sql}), '[]')::text", params
