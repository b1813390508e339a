"""@mentions: found in a comment's text, resolved against the workspace's
members, marked in the rendered HTML. A name that is not a member stays
plain text; nothing about such a person is looked up beyond the members."""

import re

from django.utils.html import escape

from pmhub.accounts.models import Membership

# @name at a word start; names are Django usernames without "@".
MENTION = re.compile(r"(?<![\w@/.:-])@([\w.+-]*[\w+-])")


def names_in(text: str) -> list[str]:
    """Every distinct @name in ``text``, in order, lower-cased."""
    seen = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).lower()
        if name not in seen:
            seen.append(name)
    return seen


def members_named(workspace, names: list[str]) -> dict[str, object]:
    """{lower-cased username: user} of the members of ``workspace`` among ``names``."""
    if not names:
        return {}
    rows = Membership.objects.filter(workspace=workspace, user__username__iregex=_any(names))
    return {m.user.username.lower(): m.user for m in rows.select_related("user")}


def _any(names: list[str]) -> str:
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def mark(html: str, mentions: list[dict]) -> str:
    """Wrap each mention of a member in sanitized ``html`` in a span."""
    if not mentions:
        return html
    by_name = {m["username"].lower(): m for m in mentions}

    def replace(match):
        mention = by_name.get(match.group(1).lower())
        if mention is None:
            return match.group(0)
        return f'<span class="mention">@{escape(mention["username"])}</span>'

    # Only in text between tags: never inside an attribute (a mailto: link).
    parts = re.split(r"(<[^>]*>)", html)
    return "".join(p if p.startswith("<") else MENTION.sub(replace, p) for p in parts)
