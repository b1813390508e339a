"""The workspace audit log (admins and owners) and its CSV export."""

import csv
from urllib.parse import urlencode

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import Membership

from . import reads
from .verbs import VERBS

CSV_COLUMNS = [
    "id",
    "when",
    "who",
    "actor kind",
    "action",
    "object type",
    "key",
    "title",
    "changes",
]


def _require_auditor(request) -> None:
    # Viewers and editors see object activity panels, not the workspace's log;
    # to them (as to strangers) the page does not exist.
    if not request.can_admin:
        raise Http404("No such page.")


@vary_on_headers("HX-Request")
@workspace_view()
def audit_log(request):
    """Who changed what: filter by person, object type, action and dates."""
    _require_auditor(request)
    query = reads.AuditQuery.from_params(request.GET)
    rows, next_cursor = ([], None)
    if not query.errors:
        rows, next_cursor = reads.audit_events(
            request.workspace, query, before=request.GET.get("before", "")
        )
    context = {
        "workspace": request.workspace,
        "query": query,
        "rows": [(event, reads.describe(event)) for event in rows],
        "next_cursor": next_cursor,
        "people": Membership.objects.in_workspace(request.workspace)
        .select_related("user")
        .order_by("user__username"),
        "object_types": reads.OBJECT_TYPES,
        "verbs": sorted(VERBS),
        "more_url": "?" + urlencode({**query.params(), "before": next_cursor})
        if next_cursor
        else "",
        "csv_url": "?" + urlencode(query.params()) if query.params() else "",
    }
    template = "activity/audit.html#rows" if request.htmx else "activity/audit.html"
    return render(request, template, context)


@workspace_view()
def audit_csv(request):
    """The filtered log as CSV, streamed; formula cells neutralized."""
    _require_auditor(request)
    query = reads.AuditQuery.from_params(request.GET)
    if query.errors:
        raise Http404("Bad filter.")
    writer = csv.writer(csvimport.Echo())

    def lines():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)
        for e in reads.all_audit_events(request.workspace, query):
            row = [
                e.id,
                e.created_at.isoformat(),
                e.actor_label,
                e.actor_kind,
                e.verb,
                e.object_type,
                e.object_key,
                e.object_title,
                reads.describe(e),
            ]
            yield writer.writerow([csvimport.neutralize(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-audit.csv"'
    return response
