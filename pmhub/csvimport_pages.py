"""The shared CSV import's HTML pages (``import_views`` makes an app's upload
and job views); the import itself is ``pmhub.csvimport``."""

import itertools

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace

from .csvimport import Importer, mapped_columns, rows_of

# --- views ------------------------------------------------------------------------------------
# The HTML pages, shared: ``import_views`` makes an app's two views. The app's
# templates extend templates/_import_start.html and templates/_import_job.html.


def import_views(importer: str, *, app: str, urls: dict, product_model, context):
    """The upload view and the job view of an app's import, for its urls.py.

    ``importer``: dotted path of the app's ``Importer`` instance (loaded on
    first use); ``app``: the templates are ``<app>/import.html`` and
    ``<app>/import_job.html``; ``urls``: the app's URL names ``{"start": …,
    "job": …}``; ``product_model``: the Product model, looked up by ``key`` in
    the request's workspace (404 otherwise); ``context(request, product)``:
    the app's base page context."""

    @workspace_view(edit=True)
    def import_start(request, key):
        found = get_in_workspace(request, product_model, key=key)
        return start_page(
            request,
            import_string(importer),
            product=found,
            template=f"{app}/import.html",
            context=context(request, found),
            urls=urls,
        )

    @vary_on_headers("HX-Request")
    @workspace_view(edit=True)
    def import_job(request, key, pk):
        found = get_in_workspace(request, product_model, key=key)
        return job_page(
            request,
            import_string(importer),
            product=found,
            pk=pk,
            template=f"{app}/import_job.html",
            context=context(request, found),
            urls=urls,
        )

    return import_start, import_job


def errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


def start_page(request, importer: Importer, *, product, template: str, context: dict, urls: dict):
    """Upload form and recent imports; a good upload goes on to the job page.
    ``urls``: the app's URL names, ``{"start": …, "job": …}``."""
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV file."
        else:
            try:
                job = importer.start(
                    request.user,
                    product=product,
                    filename=upload.name,
                    raw=upload,
                )
            except ValidationError as exc:
                error = errors_text(exc)
            else:
                return redirect(
                    urls["job"], slug=request.workspace.slug, key=product.key, pk=job.pk
                )
    jobs = importer.job_model.objects.filter(product=product).select_related("created_by")
    return render(
        request,
        template,
        {
            **context,
            "error": error,
            "jobs": jobs[:10],
            "targets": importer.targets(product),
            "import_urls": urls,
        },
    )


def job_page(request, importer: Importer, *, product, pk, template: str, context: dict, urls: dict):
    """Mapping form, row errors, preview and the import button; with htmx and
    ``?progress=1`` only the progress banner (and a refresh once done)."""
    job = get_object_or_404(importer.job_model, product=product, pk=pk)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "import":
                importer.confirm(request.user, job=job)
            else:
                mapping = {h: request.POST.get(f"map_{i}", "") for i, h in enumerate(job.headers)}
                importer.set_mapping(request.user, job=job, mapping=mapping)
        except ValidationError as exc:
            error = errors_text(exc)
        else:
            return redirect(urls["job"], slug=request.workspace.slug, key=product.key, pk=job.pk)
        job.refresh_from_db()
    ctx = {**context, "job": job.with_live_progress(), "import_urls": urls}
    if request.htmx and request.GET.get("progress"):
        response = render(request, "_import_progress.html", ctx)
        if not job.is_running:
            response["HX-Refresh"] = "true"
        return response
    preview = []
    mapped = mapped_columns(job)
    if job.state in (job.State.READY, job.State.INVALID) and job.mapping:
        for row in itertools.islice(rows_of(job), 10):
            preview.append([row.get(col, "") for col, _target in mapped])
    ctx |= {
        "error": error,
        "preview": preview,
        "mapped": mapped,
        "targets": importer.targets(product),
        "columns": [(i, h, job.mapping.get(h, "")) for i, h in enumerate(job.headers)],
        "sample": list(itertools.islice(rows_of(job), 3)) if job.state == job.State.MAPPING else [],
    }
    return render(request, template, ctx)
