"""The live stream (Server-Sent Events) and presence heartbeats of a workspace."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import Http404, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import Membership

from . import feed, presence, streams


def _viewer(request, slug) -> streams.Viewer | None:
    """The member the stream is for (the session is read here too), then the
    connection goes back: an open stream holds none (the hub reads for all)."""
    try:
        user = request.user
        if not user.is_authenticated:
            return None
        found = (
            Membership.objects.filter(user=user, workspace__slug=slug)
            .values_list("workspace_id", "role")
            .first()
        )
        return streams.Viewer(found[0], user.pk, found[1]) if found else None
    finally:
        if not connection.in_atomic_block:  # a test's transaction keeps it
            connection.close()


@require_GET
async def stream(request, slug):
    """``text/event-stream`` of the workspace's changes for one of its members
    (anyone else: 404). ``since`` (or the ``Last-Event-ID`` header, which wins)
    is the position to resume after."""
    unknown = set(request.GET) - {"since"}
    if unknown:
        return HttpResponseBadRequest(f"Unknown parameter: {', '.join(sorted(unknown))}")
    viewer = await sync_to_async(_viewer)(request, slug)
    if viewer is None:
        raise Http404("No such workspace.")
    given = request.headers.get("Last-Event-ID") or request.GET.get("since")
    since = feed.decode(given)
    if given and since is None:
        return HttpResponseBadRequest("since: not a position this stream wrote.")
    lifetime = settings.LIVE_STREAM_SECONDS
    if isinstance(request, ASGIRequest):
        body = streams.stream_async(viewer, since, lifetime=lifetime)
    else:
        body = streams.stream_sync(viewer, since, lifetime=lifetime)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@require_POST
@workspace_view()
def heartbeat(request):
    """I am on this page (and editing this row): who else is? ``leave=1`` says goodbye."""
    try:
        beat = presence.Beat.from_post(request.POST)
    except ValidationError as exc:
        return JsonResponse({"errors": exc.message_dict}, status=400)
    store = presence.store()
    if beat.leave:
        store.leave(request.workspace.pk, beat)
        return JsonResponse({"others": []})
    store.beat(request.workspace.pk, beat, presence.Person.of(request.user))
    others = [
        p.as_json()
        for p in store.on_page(request.workspace.pk, beat.page)
        if p.client != beat.client
    ]
    return JsonResponse({"others": others}, json_dumps_params={"separators": (",", ":")})
