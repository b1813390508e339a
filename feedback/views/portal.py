"""The public ideas portal: no account needed. Only what the PM published is
shown; feedback text is escaped by the templates and email addresses are
masked; submissions and anonymous votes are rate-limited (429)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.clientip import client_ip
from pmhub.web import apply_errors
from products.models import Product

from .. import reads, services
from ..forms import PortalSubmitForm, VoteForm
from ..models import PublicIdea


def _portal_product(slug, key) -> tuple[Product, object]:
    product = (
        Product.objects.select_related("workspace").filter(workspace__slug=slug, key=key).first()
    )
    if product is None:
        raise Http404("No such portal.")
    settings_row = reads.portal_settings(product)
    if not settings_row.enabled:
        raise Http404("No such portal.")
    return product, settings_row


def _portal_context(request, product, settings_row) -> dict:
    return {
        "portal_product": product,
        "portal": settings_row,
        "groups": reads.portal(product),
        "voted": set(request.session.get("portal_votes", [])),
        "submit_form": PortalSubmitForm(),
        "vote_form": VoteForm(),
        "workspace_slug": product.workspace.slug,
    }


def _rate_limited(request, ctx, exc):
    """The portal again with its "too many" notice: 429 with Retry-After."""
    ctx["rate_limited"] = True
    response = render(request, "feedback/portal.html", ctx, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


NOTICE = "portal_notice"


def _done(request, product, anchor: str, **notice):
    """Post/redirect/get: what happened travels in the session to the next
    GET, so a refresh shows the page again instead of submitting again."""
    request.session[NOTICE] = {"product": product.pk, **notice}
    url = reverse("feedback:portal", args=[product.workspace.slug, product.key])
    return redirect(f"{url}#{anchor}")


def _pop_notice(request, product, ctx) -> None:
    notice = request.session.pop(NOTICE, None)
    if not notice or notice.get("product") != product.pk:
        return
    if notice.get("submitted"):
        ctx["submitted"] = True
        ctx["submitted_text"] = notice.get("submitted_text", "")
    if notice.get("vote_notice"):
        ctx["vote_notice"] = tuple(notice["vote_notice"])


def portal(request, slug, key):
    product, settings_row = _portal_product(slug, key)
    ctx = _portal_context(request, product, settings_row)
    status = 200
    if request.method != "POST":
        _pop_notice(request, product, ctx)
    if request.method == "POST":
        form = PortalSubmitForm(request.POST)
        ctx["submit_form"] = form
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the honeypot: pretend success, store nothing.
                return _done(request, product, "submit-title", submitted=True)
            try:
                feedback = services.submit_portal_feedback(
                    product=product,
                    text=form.cleaned_data["text"],
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    ip=client_ip(request),
                )
            except services.RateLimited as exc:
                return _rate_limited(request, ctx, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                text = reads.mask_emails(feedback.text)[:2000]
                return _done(request, product, "submit-title", submitted=True, submitted_text=text)
        else:
            status = 400
    return render(request, "feedback/portal.html", ctx, status=status)


@require_POST
def vote(request, slug, key, pk):
    product, settings_row = _portal_product(slug, key)
    idea = get_object_or_404(PublicIdea.objects.select_related("product"), product=product, pk=pk)
    ctx = _portal_context(request, product, settings_row)
    email = ""
    if not request.user.is_authenticated:
        form = VoteForm(request.POST)
        if not form.is_valid():
            ctx["vote_error"] = (idea.pk, "Enter your email to vote.")
            return render(request, "feedback/portal.html", ctx, status=400)
        email = form.cleaned_data["email"]
    try:
        vote_row = services.cast_vote(
            idea=idea, email=email, user=request.user, ip=client_ip(request)
        )
    except services.RateLimited as exc:
        return _rate_limited(request, ctx, exc)
    except ValidationError as exc:
        ctx["vote_error"] = (idea.pk, " ".join(exc.messages))
        return render(request, "feedback/portal.html", ctx, status=400)
    except PermissionDenied:
        raise Http404("No such portal.") from None
    votes = set(request.session.get("portal_votes", []))
    votes.add(idea.pk)
    request.session["portal_votes"] = sorted(votes)
    if vote_row.verified_at is not None:
        said = "Thanks, your vote counts." if vote_row._created else "You already voted for this."
    else:
        said = "Check your inbox: your vote counts once you follow the link we sent."
    return _done(request, product, f"idea-{idea.pk}", vote_notice=[idea.pk, said])


def vote_confirm(request, token):
    try:
        vote_row = services.confirm_vote(token)
    except ValidationError as exc:
        return render(
            request, "feedback/portal_message.html", {"message": " ".join(exc.messages)}, status=400
        )
    product = vote_row.idea.product
    title = reads.mask_emails(vote_row.idea.public_title)
    return render(
        request,
        "feedback/portal_message.html",
        {
            "message": f"Thanks! Your vote for “{title}” counts.",
            "back_url": reverse("feedback:portal", args=[product.workspace.slug, product.key]),
        },
    )


def unsubscribe(request, token):
    if request.method != "POST":
        # A GET only asks: mail scanners follow links, and must not unsubscribe anyone.
        return render(request, "feedback/portal_unsubscribe.html", {"token": token})
    try:
        services.unsubscribe(token)
    except ValidationError as exc:
        return render(
            request, "feedback/portal_message.html", {"message": " ".join(exc.messages)}, status=400
        )
    return render(
        request,
        "feedback/portal_message.html",
        {"message": "You are unsubscribed: you will get no more emails about this product."},
    )
