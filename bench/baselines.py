"""The baselines the application is compared with: the same rows read with
one raw SQL statement on a plain psycopg cursor and written out with
``json.dumps``, and the same backlog rows rendered by a minimal template fed
from ``.values()``.

Each exists twice: as a bare function (the floor: SQL plus serialization and
nothing else) and as a plain Django view mounted by ``bench.urls``, which the
benchmark requests through the same test client, WSGI handler and middleware
as the application's own pages, so that both sides of a ratio pay the same
fixed cost of a Django request."""

import datetime as dt
import json

from django.db import connection
from django.http import HttpResponse
from django.template import engines

from backlog.models import Item, Tag
from pmhub.accounts.models import ApiToken, hash_token


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
    """Template baseline: the first ``limit`` backlog rows from ``.values()``
    through a minimal template."""
    rows = list(
        Item.objects.filter(product_id=product_id).order_by("rank").values(*MINIMAL_FIELDS)[:limit]
    )
    return MINIMAL_TEMPLATE.render({"rows": rows})


def minimal_backlog_view(request):
    product_id = int(request.GET["product"])
    return HttpResponse(minimal_backlog_html(product_id))
