"""The discussion panel's threads written by hand, for speed.

``templates/discussions/_threads.html`` is the source of truth of the
markup; rendering it with a partial per comment costs about ten times the
comments' own text (forms, their CSRF fields and URLs, hundreds of times on
a busy item). This writer produces the same bytes from the same panel
context; ``tests/discussions/test_rendering.py`` renders a fixture with every
kind of comment (replies, deleted, edited, own and others', reactions mine
and not, HTML in every text) through both and asserts they are equal. Change
the markup in the template and here together."""

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


class _Dates:
    """``date:'c'`` and ``date:"M j, H:i"`` of the template, with the time
    zone and the (translated) month names looked up once per panel, not per
    comment (their cost showed in the benchmark)."""

    def __init__(self):
        self.tz = timezone.get_current_timezone()
        self.months = {n: str(MONTHS_3[n]).title() for n in range(1, 13)}

    def __call__(self, value) -> tuple[str, str]:
        local = value.astimezone(self.tz)
        return local.isoformat(), f"{self.months[local.month]} {local.day}, {local:%H:%M}"


class ThreadWriter:
    def __init__(self, panel: dict, csrf_token: str):
        self.p = panel
        self.when = _Dates()
        self.base = escape(panel["comments_base"])
        self.csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        self.members = escape(panel["members_url"])
        self.max_body = escape(panel["max_body"])
        self.picker = "".join(
            f'<button name="emoji" value="{escape(e)}">{escape(e)}</button>' for e in panel["emoji"]
        )

    def comment(self, t) -> str:
        c = t.comment
        pk = c.pk
        iso, short = self.when(c.created_at)
        out = [
            f'<article class="comment{" comment-deleted" if c.is_deleted else ""}" '
            f'id="comment-{pk}"><header class="small"><strong>{escape(c.author_name)}</strong> '
            f'<span class="muted"><time datetime="{iso}">{short}</time>'
        ]
        if c.edited_at and not c.is_deleted:
            out.append(' · <span title="The old text is in the history">edited</span>')
        out.append("</span></header>")
        if c.is_deleted:
            out.append('<p class="small muted">This comment was deleted.</p></article>')
            return "".join(out)
        url = f"{self.base}{pk}/"
        out.append(
            f'<div class="comment-body prose">{c.body_html}</div>'
            f'<form method="post" action="{url}react/" hx-post="{url}react/" class="reactions" '
            f'aria-label="Reactions">{self.csrf}'
        )
        for r in t.reactions:
            mine = "true" if r.mine else "false"
            out.append(
                f'<button type="submit" name="emoji" value="{escape(r.emoji)}" '
                f'class="reaction{" reaction-mine" if r.mine else ""}" aria-pressed="{mine}" '
                f'title="{", ".join(escape(n) for n in r.names)}">{escape(r.emoji)} {r.count}'
                "</button>"
            )
        out.append(
            '<details class="reaction-add"><summary aria-label="Add a reaction">☺+</summary>'
            f'<span class="reaction-picker">{self.picker}</span></details></form>'
        )
        if c.author_id == self.p["user_id"]:
            out.append(
                f'<form method="post" action="{url}edit/" hx-post="{url}edit/" '
                f'class="comment-own small">'
                f'{self.csrf}<input type="hidden" name="version" value="{c.version}">'
                "<details>"
                f'<summary>Edit</summary><label class="visually-hidden" for="edit-{pk}">'
                f'Edit your comment</label><textarea id="edit-{pk}" name="body" rows="3" '
                f'maxlength="{self.max_body}" data-mentions="{self.members}">'
                f"{escape(c.body)}</textarea>"
                '<button type="submit" class="btn btn-sm">Save</button></details>'
                f'<button type="submit" class="linklike danger" formaction="{url}delete/" '
                f'hx-post="{url}delete/" hx-confirm="Delete this comment?">Delete</button></form>'
            )
        out.append("</article>")
        return "".join(out)

    def thread(self, t) -> str:
        out = ['<li class="comment-thread">', self.comment(t)]
        if t.replies:
            out.append('<ol class="comment-replies" role="list">')
            out += [f"<li>{self.comment(r)}</li>" for r in t.replies]
            out.append("</ol>")
        if self.p["can_comment"] and not t.comment.is_deleted:
            pk = t.comment.pk
            url = escape(self.p["comment_url"])
            out.append(
                '<details class="comment-reply"><summary class="small">Reply</summary>'
                f'<form method="post" action="{url}" hx-post="{url}">'
                f'{self.csrf}<input type="hidden" name="parent" '
                f'value="{pk}">'
                f'<label class="visually-hidden" for="reply-{pk}">Reply to '
                f"{escape(t.comment.author_name)}</label>"
                f'<textarea id="reply-{pk}" name="body" rows="2" maxlength="{self.max_body}" '
                f'required data-mentions="{self.members}"></textarea>'
                '<button type="submit" class="btn btn-sm btn-primary">Reply</button>'
                "</form></details>"
            )
        out.append("</li>\n")
        return "".join(out)


def threads_html(panel: dict, request) -> SafeString:
    writer = ThreadWriter(panel, get_token(request))
    return mark_safe("".join(writer.thread(t) for t in panel["threads"]))
