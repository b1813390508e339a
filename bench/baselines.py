"""The baselines the application is compared with: the same rows read with
one raw SQL statement on a plain psycopg cursor and written out with
``json.dumps``, and the same backlog rows rendered by the application's row
template (templates/backlog/_row.html) fed from ``.values()``, without the
rest of the page (the first, 8-column version of it is kept as a note).

Each exists twice: as a bare function (the floor: SQL plus serialization and
nothing else) and as a plain Django view mounted by ``bench.urls``, which the
benchmark requests through the same test client, WSGI handler and middleware
as the application's own pages, so that both sides of a ratio pay the same
fixed cost of a Django request."""

import datetime as dt
import functools
import json

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import F, OuterRef
from django.http import HttpResponse
from django.template import engines
from django.template.loader import get_template
from django.urls import reverse

from backlog import scoring
from backlog.models import Item, ItemType, ScoringKind, Status, Tag
from backlog.rendering import ROW_TEMPLATE
from pmhub.accounts.models import ApiToken, hash_token
from products.models import Objective


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def items_sql() -> str:
    """The columns the items API returns (all but the computed ``url`` and
    ``score_breakdown``), with tag names and objective ids, for one product in
    rank order. ``ORDER BY rank`` reads the unique (product, rank) index."""
    item = _table(Item)
    item_tags = _table(Item.tags.through)
    tag = _table(Tag)
    item_objectives = _table(Item.objectives.through)
    return f"""
        SELECT i.id, i.key, i.product_id AS product, i.type, i.title, i.description,
               i.status, i.status_reason, i.parent_id AS parent, i.owner_id AS owner,
               i.effort, i.external_url, i.external_key, i.reach, i.impact, i.confidence,
               i.ease, i.value, i.business_value, i.time_criticality, i.risk_reduction,
               i.job_size, i.demand, i.custom, i.score, i.rank, i.version,
               i.created_at, i.updated_at,
               COALESCE((SELECT array_agg(t.name ORDER BY t.name)
                           FROM {item_tags} it JOIN {tag} t ON t.id = it.tag_id
                          WHERE it.item_id = i.id), '{{}}') AS tags,
               COALESCE((SELECT array_agg(io.objective_id ORDER BY io.objective_id)
                           FROM {item_objectives} io
                          WHERE io.item_id = i.id), '{{}}') AS objectives
          FROM {item} i
         WHERE i.product_id = %s
         ORDER BY i.rank
         LIMIT %s
    """


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def raw_items_json(product_id: int, limit: int) -> bytes:
    """Raw-SQL baseline: ``limit`` rows as a JSON document, on a psycopg
    cursor of Django's (persistent) connection."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(items_sql(), (product_id, limit))
        names = [d.name for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django's connection hands jsonb over as text
        row["custom"] = json.loads(row["custom"])
    return json.dumps({"results": rows}, default=_json_default).encode()


def raw_items_view(request):
    product_id = int(request.GET["product"])
    limit = int(request.GET.get("page_size", "50"))
    return HttpResponse(raw_items_json(product_id, limit), content_type="application/json")


def token_user_id(raw_token: str) -> int | None:
    """The bearer-token check in one raw SQL statement (active token, active user)."""
    token = _table(ApiToken)
    user = _table(ApiToken._meta.get_field("user").related_model)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.user_id FROM {token} t JOIN {user} u ON u.id = t.user_id "
            "WHERE t.token_hash = %s AND t.revoked_at IS NULL "
            "AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_active",
            (hash_token(raw_token),),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def raw_items_authenticated_view(request):
    """The raw view behind the same bearer token as the API (reported, not a target)."""
    scheme, _, raw_token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token_user_id(raw_token) is None:
        return HttpResponse(status=401)
    return raw_items_view(request)


# --- the backlog page's rows ----------------------------------------------------------
#
# The page's table rows through the application's own row template
# (templates/backlog/_row.html, the source of truth of the row's markup: an
# editor's view in manual-rank order, with the drag handle, the bulk-edit
# checkbox, a button per editable cell, the score with its explanation on
# hover, tags, objectives, the ⤒ ↑ ↓ buttons), fed from one `.values()`
# query; the benchmark checks that the page writes the same rows, byte for
# byte. Not the page around them: header, filters, saved views, bulk-edit
# bar, chart switch, the workspace's navigation. The bench product has no
# custom fields, so there are no custom columns to write.


@functools.cache
def backlog_rows_template():
    """The row template's source in a loop: one template, no include per row."""
    row = get_template(ROW_TEMPLATE).template.source
    return engines["django"].from_string(
        "<table><tbody>{% for r in rows %}" + row + "{% endfor %}</tbody></table>"
    )


TYPE_LABELS = dict(ItemType.choices)
STATUS_LABELS = dict(Status.choices)


def backlog_rows_html(product_id: int, limit: int = 50) -> str:
    """Template baseline: the first ``limit`` rows of the backlog table, from
    ``.values()`` (tag names and objective titles as array subqueries, the
    active model's framework joined in), through a plain template. Python
    adds per row only what a template cannot compute: the item's URL, the
    owner's display name and the score's explanation (``scoring.explain``)."""
    tags = Tag.objects.filter(items=OuterRef("pk")).order_by("name").values("name")
    objectives = (
        Objective.objects.filter(items=OuterRef("pk")).order_by("position", "id").values("title")
    )
    rows = list(
        Item.objects.filter(product_id=product_id)
        .order_by("rank")
        .values(
            "id",
            "number",
            "key",
            "title",
            "type",
            "status",
            "score",
            *scoring.INPUTS,
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "parent_id",
            "parent__key",
            "parent__title",
            "product__key",
            "product__workspace__slug",
            tag_names=ArraySubquery(tags),
            objective_titles=ArraySubquery(objectives),
            model_kind=F("product__backlog__active_model__kind"),
            model_criteria=F("product__backlog__active_model__criteria"),
        )[:limit]
    )
    criteria, base = [], ""
    if rows:
        first = rows[0]
        base = reverse(
            "backlog:backlog", args=[first["product__workspace__slug"], first["product__key"]]
        )
        if first["model_kind"] == ScoringKind.WEIGHTED:
            criteria = scoring.parse_criteria(first["model_criteria"])
    for r in rows:
        r["url"] = f"{base}items/{r['number']}/"
        r["custom_values"] = []  # no custom fields (a missing variable costs a failed lookup)
        if r["owner__username"] is not None:
            name = f"{r['owner__first_name']} {r['owner__last_name']}".strip()
            r["owner"] = name or r["owner__username"]
        if r["model_kind"] is not None:
            e = scoring.explain(r["model_kind"], criteria, r)
            r["worked"], r["missing"] = e.worked, e.missing
    context = {
        "rows": rows,
        "qs": "",
        "can_edit": True,
        "can_drag": True,
        "conflict": False,
        "type_labels": TYPE_LABELS,
        "status_labels": STATUS_LABELS,
    }
    return backlog_rows_template().render(context)


def backlog_rows_view(request):
    product_id = int(request.GET["product"])
    return HttpResponse(backlog_rows_html(product_id))


# The first baseline, kept as a note: 8 columns of plain text, no controls.
MINIMAL_TEMPLATE = engines["django"].from_string(
    "<table><tbody>{% for r in rows %}<tr>"
    "<td>{{ r.key }}</td><td>{{ r.title }}</td><td>{{ r.type }}</td><td>{{ r.status }}</td>"
    "<td>{{ r.score }}</td><td>{{ r.effort }}</td><td>{{ r.value }}</td>"
    "<td>{{ r.owner__username }}</td></tr>{% endfor %}</tbody></table>"
)
MINIMAL_FIELDS = (
    "id",
    "key",
    "title",
    "type",
    "status",
    "score",
    "effort",
    "value",
    "owner__username",
)


def minimal_backlog_html(product_id: int, limit: int = 50) -> str:
    """The 8-column template: the first ``limit`` backlog rows from
    ``.values()`` through a minimal template (reported, not a target)."""
    rows = list(
        Item.objects.filter(product_id=product_id).order_by("rank").values(*MINIMAL_FIELDS)[:limit]
    )
    return MINIMAL_TEMPLATE.render({"rows": rows})


def minimal_backlog_view(request):
    product_id = int(request.GET["product"])
    return HttpResponse(minimal_backlog_html(product_id))


# --- a write: the bare minimum of a PATCH -----------------------------------------------


def raw_update_view(request):
    """A plain view that does what a PATCH of an item's title must at least
    do: parse the JSON body and run one conditional UPDATE (the optimistic
    version check), answering the new version, or 412."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Item)} SET title = %s, version = version + 1, updated_at = now() "
            "WHERE id = %s AND version = %s RETURNING version",
            (body["title"], body["id"], body["version"]),
        )
        row = cursor.fetchone()
    if row is None:
        return HttpResponse(status=412)
    return HttpResponse(json.dumps({"version": row[0]}), content_type="application/json")
