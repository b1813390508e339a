"""The hand-written threads (discussions/rendering.py) and their source of
truth (templates/discussions/_threads.html) agree byte for byte on a
fixture with every kind of comment."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from discussions import services
from discussions.views.panel import panel_context

from .test_services import post

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _both(request, item):
    panel = panel_context(request, "backlog.item", item)
    fast = str(panel["threads_html"])
    slow = render_to_string("discussions/_threads.html", {"panel": panel}, request=request)
    return CSRF.sub("csrf", fast), CSRF.sub("csrf", slow)


@pytest.mark.parametrize("who", ["pm", "teammate", "viewer"])
@pytest.mark.parametrize("htmx", [False, True])
def test_threads_are_written_exactly_as_the_template_renders_them(
    request, who, htmx, pm, teammate, viewer, item, workspace
):
    top = post(pm, item, 'Hello <script>x</script> & "quotes" **bold** @teammate')
    reply = post(teammate, item, "A <reply> with 'quotes'", parent_id=top.pk)
    services.edit_comment(teammate, comment=reply, body="Edited <b>reply</b>", expected_version=1)
    gone = post(teammate, item, "To delete")
    post(pm, item, "Reply to the deleted one", parent_id=gone.pk)
    services.delete_comment(teammate, comment=gone, expected_version=1)
    post(viewer, item, "From a viewer")
    services.add_reaction(teammate, comment=top, emoji="👍")
    services.add_reaction(viewer, comment=top, emoji="👍")
    services.add_reaction(pm, comment=top, emoji="🎉")
    teammate.first_name, teammate.last_name = "Tina <T>", "Mate"
    teammate.save()
    if who == "viewer":
        services.set_editors_only(pm, workspace=workspace, editors_only=True)
    user = request.getfixturevalue(who)
    req = RequestFactory().get('/w/acme/x/?a=<b>&c="d"', HTTP_HX_REQUEST="true" if htmx else None)
    req.user, req.workspace, req.htmx = user, workspace, htmx
    req.role = user.memberships.get().role
    if htmx:
        req.META["HTTP_HX_CURRENT_URL"] = "http://testserver/w/acme/?q=<x>"
    fast, slow = _both(req, item)
    assert fast == slow
    assert "<script>x" not in fast and "Tina &lt;T&gt; Mate" in fast
