"""Pages of the archive app: a workspace's export and import page (owners),
the page of a job with its progress bar, and downloads."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import Role
from pmhub.web import apply_errors, get_in_workspace
from products.models import Product

from . import loading, services
from .format import ArchiveError
from .forms import ImportForm
from .models import ArchiveJob


def _owner_only(request):
    if request.role != Role.OWNER:
        raise PermissionDenied("Only owners export or import a workspace.")


def _visible_job(request, pk) -> ArchiveJob:
    """Exports and imports are the owners'; a CSV export is its starter's."""
    job = get_in_workspace(request, ArchiveJob.objects.select_related("created_by"), pk=pk)
    if job.kind == ArchiveJob.Kind.ITEMS_CSV:
        if job.created_by_id != request.user.pk:
            raise Http404("No such job.")
    elif request.role != Role.OWNER:
        raise Http404("No such job.")
    return job.with_live_progress()


@workspace_view()
def archive_page(request):
    _owner_only(request)
    return _render_with(request, ImportForm())


@require_POST
@workspace_view()
def export_start(request):
    _owner_only(request)
    job = services.start_export(request.user, workspace=request.workspace)
    return redirect("archive:job", request.workspace.slug, job.pk)


@require_POST
@workspace_view()
def import_start(request):
    _owner_only(request)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        name = form.cleaned_data["name"]
        try:
            if not name:
                _zf, manifest = loading.open_archive(upload)
                name = (manifest.get("workspace") or {}).get("name") or "Imported workspace"
            job = services.import_into_new_workspace(request.user, name=name, upload=upload)
        except ArchiveError as e:
            form.add_error("file", str(e))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            return redirect("archive:job", job.workspace.slug, job.pk)
    return _render_with(request, form, status=400)


def _render_with(request, form, status=200):
    jobs = ArchiveJob.objects.in_workspace(request.workspace).exclude(
        kind=ArchiveJob.Kind.ITEMS_CSV
    )[:10]
    context = {
        "workspace": request.workspace,
        "jobs": jobs,
        "form": form,
        "ttl_days": max(1, settings.EXPORT_FILES_TTL_HOURS // 24),
    }
    return render(request, "archive/workspace.html", context, status=status)


@require_POST
@workspace_view()
def items_csv_start(request, key):
    product = get_in_workspace(request, Product, key=key)
    try:
        job = services.start_items_csv(request.user, product=product, params=request.POST)
    except ValidationError as e:
        context = {"workspace": request.workspace, "product": product, "errors": e.messages}
        return render(request, "archive/items_csv.html", context, status=400)
    return redirect("archive:job", request.workspace.slug, job.pk)


@workspace_view()
def items_csv_offer(request, key):
    """Where a backlog export too big to stream is sent: one button starts it
    in the background with the same filters."""
    product = get_in_workspace(request, Product, key=key)
    params = [(k, v) for k, values in request.GET.lists() for v in values]
    context = {"workspace": request.workspace, "product": product, "params": params}
    return render(request, "archive/items_csv.html", context)


@vary_on_headers("HX-Request")
@workspace_view()
def job_page(request, pk):
    job = _visible_job(request, pk)
    template = "archive/job.html#job-progress" if request.htmx else "archive/job.html"
    return render(request, template, {"workspace": request.workspace, "job": job})


@workspace_view()
def job_download(request, pk):
    job = _visible_job(request, pk)
    if not job.is_downloadable:
        raise Http404("This file is gone: start a new export.")
    try:
        f = default_storage.open(job.file_name, "rb")
    except FileNotFoundError:
        raise Http404("This file is gone: start a new export.") from None
    filename = job.file_name.rsplit("/", 1)[-1]
    return FileResponse(f, as_attachment=True, filename=filename)
