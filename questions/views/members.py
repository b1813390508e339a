"""Members' pages of questions (namespace ``questions``): per product, the
share links of its roadmaps with their questions switch (admins) and the
questions received; the answer form posts here from the feedback inbox."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace, int_param, save_with_conflict
from products.models import Product
from roadmaps.models import ShareLink

from .. import services
from ..forms import AnswerForm
from ..models import Question, QuestionSettings

PAGE = "questions/manage.html"
RECENT = 100


def _links(product):
    """Live share links of the product's roadmaps (its own and portfolios)."""
    return (
        ShareLink.objects.live()
        .filter(Q(roadmap__product=product) | Q(roadmap__products=product))
        .select_related("roadmap")
        .distinct()
        .order_by("roadmap__name", "label", "id")
    )


def _inbox_url(request, product, question) -> str:
    url = reverse("feedback:feedback-inbox", args=[request.workspace.slug, product.key])
    return f"{url}?state=all&f={question.feedback_id}" if question.feedback_id else url


@workspace_view()
def manage(request, key):
    product = get_in_workspace(request, Product, key=key)
    links = list(_links(product))
    allowed = set(
        QuestionSettings.objects.filter(share_link__in=links, allow_questions=True).values_list(
            "share_link_id", flat=True
        )
    )
    for link in links:
        link.allows_questions = link.pk in allowed
    questions = list(
        Question.objects.in_workspace(request.workspace)
        .filter(share_link__in=links)
        .select_related("share_link", "entry__item", "answered_by")
        .annotate(plus_ones=Count("votes", filter=Q(votes__verified_at__isnull=False)))
        .order_by("-created_at", "-id")[:RECENT]
    )
    return render(
        request,
        PAGE,
        {
            "workspace": request.workspace,
            "product": product,
            "can_edit": request.can_edit,
            "can_admin": request.can_admin,
            "section": "questions",
            "links": links,
            "questions": questions,
            "recent": RECENT,
        },
    )


@require_POST
@workspace_view(admin=True)
def toggle(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    link = get_in_workspace(request, _links(product), pk=pk)
    allowed = request.POST.get("allow") == "1"
    services.set_questions_allowed(request.user, link=link, allowed=allowed)
    messages.success(
        request,
        f"“{link.label}” {'takes questions now' if allowed else 'no longer takes questions'}.",
    )
    return redirect("questions:manage", request.workspace.slug, product.key)


@require_POST
@workspace_view(edit=True)
def answer(request, key, pk):
    """The PM's answer (from the feedback inbox's panel): version-checked;
    a conflict or an error goes back to the inbox with a message."""
    product = get_in_workspace(request, Product, key=key)
    question = get_in_workspace(
        request,
        Question.objects.select_related("share_link__roadmap__workspace"),
        pk=pk,
        share_link__in=_links(product),
    )
    form = AnswerForm(request.POST)
    result = save_with_conflict(
        form,
        lambda data: services.answer_question(
            request.user,
            question=question,
            answer=data["answer"],
            expected_version=int_param(request.POST.get("version")),
        ),
        rebase=False,
    )
    if result.saved:
        messages.success(request, "Answer saved; it is on its way by email.")
    elif result.conflicted:
        messages.error(
            request,
            "Someone else answered first; nothing was overwritten. Read their answer, "
            "then change it if you must.",
        )
    else:
        errors = " ".join(m for ms in form.errors.values() for m in ms)
        messages.error(request, f"The answer was not saved: {errors}")
    return redirect(_inbox_url(request, product, question))
