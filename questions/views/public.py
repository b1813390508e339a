"""What stakeholders do on a shared roadmap (no account): ask a question
about an entry, +1 one, and confirm either from the emailed link. Forms are
posted from the shared pages, which carry no CSRF token (there is no session
to protect), like the page's password form. Every lookup goes through the
link: nothing of one link's questions is reachable through another."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from pmhub.accounts.models import hash_token
from pmhub.clientip import client_ip
from roadmaps.models import Entry, ShareLink
from roadmaps.shared_blocks import audience_unlocked

from .. import services

MESSAGE = "questions/shared_message.html"


def _headers(response):
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    response["X-Frame-Options"] = "DENY"
    return response


def _link(request, token) -> ShareLink:
    """The live, unlocked link of ``token`` that takes questions; else 404
    (a link without questions looks like no link at all to these URLs)."""
    if not token or len(token) > 100:
        raise Http404("No such roadmap.")
    link = (
        ShareLink.objects.live()
        .filter(token_hash=hash_token(token))
        .select_related("roadmap__workspace", "roadmap__product")
        .first()
    )
    if link is None or not audience_unlocked(request, link) or not services.questions_allowed(link):
        raise Http404("No such roadmap.")
    return link


def _message(request, token, link, *, title, text, status=200, form=None, entry=None):
    response = render(
        request,
        MESSAGE,
        {
            "token": token,
            "roadmap": link.roadmap if link else None,
            "title": title,
            "text": text,
            "form": form,
            "entry": entry,
        },
        status=status,
    )
    return _headers(response)


def _too_many(request, token, link, exc):
    response = _message(
        request,
        token,
        link,
        title="Too many questions",
        text="You sent many questions in a short time. Wait a minute, then try again.",
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _sent(request, token, link, email):
    return _message(
        request,
        token,
        link,
        title="Check your email",
        text=f"We sent a link to {email}. Follow it to confirm, and your question goes "
        "to the product team; the answer comes back by email.",
        status=202,
    )


@csrf_exempt
def ask(request, token):
    if request.method != "POST":
        return _headers(HttpResponseNotAllowed(["POST"]))
    link = _link(request, token)
    data = request.POST
    try:
        services.ask_question(
            link=link,
            entry_id=data.get("entry"),
            text=data.get("text", ""),
            email=data.get("email", ""),
            honeypot=data.get("website", ""),
            ip=client_ip(request),
        )
    except services.Honeypot:
        return _sent(request, token, link, "your address")
    except services.RateLimited as exc:
        return _too_many(request, token, link, exc)
    except ValidationError as exc:
        entry = Entry.objects.filter(pk=_int(data.get("entry")), roadmap_id=link.roadmap_id).first()
        return _message(
            request,
            token,
            link,
            title="Your question was not sent",
            text="Please fix this and send it again.",
            status=400,
            form={
                "errors": exc.message_dict,
                "text": data.get("text", "")[: services.MAX_QUESTION + 100],
                "email": data.get("email", "")[:254],
            },
            entry=entry if "entry" not in exc.message_dict else None,
        )
    return _sent(request, token, link, data.get("email", "").strip().lower())


@csrf_exempt
def plus_one(request, token, pk):
    if request.method != "POST":
        return _headers(HttpResponseNotAllowed(["POST"]))
    link = _link(request, token)
    try:
        vote = services.plus_one(
            link=link,
            question_id=pk,
            email=request.POST.get("email", ""),
            honeypot=request.POST.get("website", ""),
            ip=client_ip(request),
        )
    except services.Honeypot:
        return _sent(request, token, link, "your address")
    except services.RateLimited as exc:
        return _too_many(request, token, link, exc)
    except ValidationError as exc:
        if "question" in exc.message_dict:
            raise Http404("No such question.") from None
        return _message(
            request,
            token,
            link,
            title="Your +1 was not counted",
            text=" ".join(m for ms in exc.message_dict.values() for m in ms),
            status=400,
        )
    return _message(
        request,
        token,
        link,
        title="Check your email",
        text=f"We sent a link to {vote.email}. Follow it, and we email you the answer too.",
        status=202,
    )


def _int(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**31 else None


def confirm_question(request, token):
    """The link in the verification email (a GET, like the portal's vote link)."""
    try:
        services.confirm_question(token)
    except ValidationError as exc:
        return _message(
            request, None, None, title="Link not valid", text=exc.messages[0], status=400
        )
    except PermissionDenied:
        raise Http404 from None
    return _message(
        request,
        None,
        None,
        title="Thank you",
        text="Your question reached the product team. You will get the answer by email.",
    )


def confirm_vote(request, token):
    try:
        services.confirm_vote(token)
    except ValidationError as exc:
        return _message(
            request, None, None, title="Link not valid", text=exc.messages[0], status=400
        )
    return _message(
        request,
        None,
        None,
        title="Thank you",
        text="Your +1 counts. We will email you the answer when the team gives it.",
    )
