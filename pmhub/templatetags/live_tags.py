"""``{% live_page "backlog" product.key %}``: the live stream's settings for a page
(``static/js/live.js``), the presence strip and the "paused" banner
(``templates/live/_live.html``, ``docs/live.md``)."""

from django import template
from django.urls import reverse

from pmhub.live import feed

register = template.Library()


@register.inclusion_tag("live/_live.html", takes_context=True)
def live_page(context, *parts):
    """``parts`` (joined with ":") name the page for presence (people on the same name see each
    other). ``since`` is the log's position as the page is rendered: the
    stream resumes from there, so no change between render and connect is lost."""
    workspace = context["workspace"]
    return {
        "stream_url": reverse("live:stream", args=[workspace.slug]),
        "presence_url": reverse("live:presence", args=[workspace.slug]),
        "since": feed.encode(feed.head(workspace.pk)),
        "page": ":".join(str(part) for part in parts),
        "me": context["request"].user.pk,
    }
