"""The change feed: ``GET /api/v1/events/?after=<cursor>&types=…``.

Every committed event exactly once, in log order, for admins and owners of
the workspaces it covers. A page's ``cursor`` is where the next poll starts
(also when the page is empty); ``next`` is the URL of the following page
while pages come back full."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from pmhub.api.pagination import InvalidCursor, decode_cursor, encode_cursor, invalid_cursor

from . import visibility
from .models import Event
from .verbs import VERBS

CURSOR_KEY = "events"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def event_json(event: Event) -> dict:
    """One event as the API shows it."""
    return {
        "id": event.id,
        "verb": event.verb,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "workspace": event.workspace_id,
        "actor": {
            "kind": event.actor_kind,
            "user": event.actor_user_id,
            "token": event.actor_token_id,
            "label": event.actor_label,
        },
        "object": {
            "type": event.object_type,
            "id": event.object_id,
            "key": event.object_key,
            "title": event.object_title,
        },
        "parent": {"type": event.parent_type, "id": event.parent_id} if event.parent_type else None,
        "product": event.product_id,
        "changes": event.changes,
        "version": event.version,
    }


def parse_types(raw: str | None) -> list[str]:
    types = [t.strip() for t in (raw or "").split(",") if t.strip()]
    unknown = sorted(set(types) - set(VERBS))
    if unknown:
        raise ValidationError({"types": [f"Unknown event type: {', '.join(unknown)}."]})
    return types


def parse_after(raw: str | None) -> tuple[int, int]:
    if not raw:
        return (0, 0)
    try:
        return decode_cursor(raw, CURSOR_KEY, [int, int])
    except InvalidCursor:
        raise invalid_cursor("after") from None


_EVENT_FIELDS = {
    "id": serializers.IntegerField(),
    "verb": serializers.CharField(),
    "created_at": serializers.DateTimeField(),
    "workspace": serializers.IntegerField(),
    "actor": serializers.DictField(),
    "object": serializers.DictField(),
    "parent": serializers.DictField(allow_null=True),
    "product": serializers.IntegerField(allow_null=True),
    "changes": serializers.DictField(),
    "version": serializers.IntegerField(allow_null=True),
}


class EventFeed(APIView):
    """The change feed of the workspaces you administer: every committed
    event exactly once, in log order."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.STR,
                description="A `cursor` from an earlier page; a bad one is a 400.",
            ),
            OpenApiParameter(
                "types",
                OpenApiTypes.STR,
                description="Comma-separated verbs (`item.created,item.moved`); unknown: 400.",
            ),
            OpenApiParameter(
                "workspace", OpenApiTypes.INT, description="Only this workspace's events."
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"1–{MAX_PAGE_SIZE}, default {PAGE_SIZE}.",
            ),
        ],
        responses={
            200: inline_serializer(
                "EventPage",
                {
                    "cursor": serializers.CharField(),
                    "next": serializers.URLField(allow_null=True),
                    "results": inline_serializer("Event", _EVENT_FIELDS, many=True),
                },
            ),
            400: OpenApiResponse(description="A bad cursor, an unknown type or a bad page size"),
        },
    )
    def get(self, request):
        position = parse_after(request.query_params.get("after"))
        types = parse_types(request.query_params.get("types"))
        size = _page_size(request.query_params.get("page_size"))
        events = Event.objects.audited_by(request.user)
        workspace = request.query_params.get("workspace")
        if workspace:
            try:
                workspace_id = int(workspace)
                if abs(workspace_id) >= 2**63:
                    raise ValueError(workspace)
                events = events.filter(workspace_id=workspace_id)
            except ValueError:
                raise ValidationError({"workspace": ["A workspace id."]}) from None
        if types:
            events = events.filter(verb__in=types)
        page = list(visibility.visible_after(events, position)[:size])
        if page:
            position = visibility.position_of(page[-1])
        cursor = encode_cursor(CURSOR_KEY, list(position))
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, "after", cursor) if len(page) == size else None
        return Response(
            {"cursor": cursor, "next": next_url, "results": [event_json(e) for e in page]}
        )


def _page_size(raw) -> int:
    if raw in (None, ""):
        return PAGE_SIZE
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(raw)


__all__ = ["EventFeed", "event_json"]
