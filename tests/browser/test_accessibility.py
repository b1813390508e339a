"""Every page a PM, a viewer and a stakeholder reach, checked in Chromium:
axe-core's WCAG 2.1 AA rules report nothing in the light and the dark
colour scheme, nor do its best practices, and on a 390 px phone no page
scrolls sideways.

The demo workspace (``manage.py seed_demo``: two products, every roadmap
layout, feedback, metrics, launch reviews) is seeded once for the module and
served by a live server of its own, so the pages are realistic and the seed
is paid once. One browser context per person and mode is reused by every
page. axe-core comes from npm (``package.json``) and is injected here only;
no page loads it.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from backlog.models import Hypothesis, Item
from feedback.models import Company
from metrics.models import Metric
from pmhub.accounts import services as account_services
from pmhub.accounts.management.commands.seed_demo import Command as SeedDemo
from pmhub.accounts.models import Role, User, Workspace
from products.models import Product
from questions import services as question_services
from roadmaps import services as roadmap_services
from roadmaps.models import Layout, Roadmap
from specs.models import Spec

from .conftest import DEFAULT_TIMEOUT_MS

# Not transactional: the module's demo data is committed once and must
# outlive each test; the pages' own writes (sessions, view counts) are
# flushed with it at the end of the module.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE = static("vendor/axe-core/axe.min.js")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe's best practices as well (heading order, landmarks, empty table headers):
# Lighthouse's accessibility score counts them.
BEST_PRACTICE = ["best-practice"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Demo:
    """URLs of the seeded demo, by page name."""

    url: str
    cookies: dict[str, dict] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def _session_cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
    }


def _demo_urls() -> dict[str, str]:
    ws = Workspace.objects.get(slug="acme")
    pm = User.objects.get(username="demo")
    pay = Product.objects.get(workspace=ws, key="PAY")
    item = Item.objects.filter(product=pay).order_by("number").first()
    hypothesis = Hypothesis.objects.filter(item__product__workspace=ws).select_related(
        "item__product"
    )[0]
    roadmaps = {r.layout: r for r in Roadmap.objects.filter(workspace=ws, product=pay)}
    portfolio = Roadmap.objects.get(workspace=ws, product=None)
    status_board = Roadmap.objects.get(workspace=ws, layout=Layout.STATUS)
    nnl = roadmaps[Layout.NOW_NEXT_LATER]
    entry = nnl.entries.order_by("id").first()
    _link, token = roadmap_services.create_share_link(pm, roadmap=nnl, label="Axe")
    _link, timeline_token = roadmap_services.create_share_link(
        pm, roadmap=roadmaps[Layout.TIMELINE], label="Axe timeline"
    )
    _link, locked_token = roadmap_services.create_share_link(
        pm, roadmap=nnl, label="Axe locked", password="board-only"
    )
    questions_link, questions_token = roadmap_services.create_share_link(
        pm, roadmap=nnl, label="Axe questions"
    )
    question_services.set_questions_allowed(pm, link=questions_link, allowed=True)
    question = question_services.ask_question(
        link=questions_link, entry_id=entry.pk, text="When?", email="a@b.example", ip="axe"
    )
    question_services.confirm_question(question_services.question_token(question))
    spec = Spec.objects.filter(item__product=pay).select_related("item").order_by("id").first()
    _invite, invite_token = account_services.create_invite(pm, workspace=ws, role=Role.EDITOR)
    metric = Metric.objects.filter(product=pay).order_by("id").first()
    company = Company.objects.filter(workspace=ws).order_by("id").first()
    w, k = ws.slug, pay.key
    return {
        "workspace home": reverse("products:workspace", args=[w]),
        "strategy": reverse("products:strategy", args=[w, k]),
        "vision history": reverse("products:vision-history", args=[w, k]),
        "backlog": reverse("backlog:backlog", args=[w, k]),
        "item": reverse("backlog:item", args=[w, k, item.number]),
        "scoring": reverse("backlog:scoring", args=[w, k]),
        "fields": reverse("backlog:custom-fields", args=[w, k]),
        "import": reverse("backlog:import", args=[w, k]),
        "launch reviews": reverse("backlog:launch-reviews", args=[w, k]),
        "launch review": reverse(
            "backlog:launch-review",
            args=[w, hypothesis.item.product.key, hypothesis.item.number],
        ),
        "workspace roadmaps": reverse("roadmaps:roadmaps-home", args=[w]),
        "product roadmaps": reverse("roadmaps:roadmaps", args=[w, k]),
        "timeline": reverse("roadmaps:roadmap", args=[w, roadmaps[Layout.TIMELINE].pk]),
        "now next later": reverse("roadmaps:roadmap", args=[w, nnl.pk]),
        "status board": reverse("roadmaps:roadmap", args=[w, status_board.pk]),
        "portfolio": reverse("roadmaps:roadmap", args=[w, portfolio.pk]),
        "roadmap entry": reverse("roadmaps:roadmap-entry", args=[w, nnl.pk, entry.pk]),
        "share links": reverse("roadmaps:roadmap-share", args=[w, nnl.pk]),
        "shared page": reverse("roadmaps:shared-roadmap", args=[token]),
        "shared timeline": reverse("roadmaps:shared-roadmap", args=[timeline_token]),
        "shared entry": reverse("roadmaps:shared-entry", args=[token, entry.pk]),
        "shared page password": reverse("roadmaps:shared-roadmap", args=[locked_token]),
        "shared page questions": reverse("roadmaps:shared-roadmap", args=[questions_token]),
        "shared entry questions": reverse(
            "roadmaps:shared-entry", args=[questions_token, entry.pk]
        ),
        "question confirmed": reverse(
            "questions:confirm-question", args=[question_services.question_token(question)]
        ),
        "spec": reverse("specs:spec", args=[w, k, spec.item.number]),
        "spec versions": reverse("specs:spec-versions", args=[w, k, spec.item.number]),
        "questions": reverse("questions:manage", args=[w, k]),
        "question in the inbox": reverse("feedback:feedback-inbox", args=[w, k])
        + f"?state=all&f={question.feedback_id}",
        "feedback inbox": reverse("feedback:feedback-inbox", args=[w, k]),
        "feedback import": reverse("feedback:feedback-import", args=[w, k]),
        "customers": reverse("feedback:feedback-customers", args=[w, k]),
        "company": reverse("feedback:feedback-company", args=[w, k, company.pk]),
        "portal settings": reverse("feedback:feedback-portal-settings", args=[w, k]),
        "portal": reverse("feedback:portal", args=[w, k]),
        "metrics": reverse("metrics:metrics", args=[w, k]),
        "metric": reverse("metrics:metric", args=[w, k, metric.pk]),
        "members": reverse("accounts:members", args=[w]),
        "notifications": reverse("discussions:notifications", args=[w]),
        "email preferences": reverse("discussions:preferences"),
        "discussion": reverse("discussions:thread", args=[w, "backlog.item", item.pk]),
        "export and import": reverse("archive:workspace", args=[w]),
        "tokens": reverse("accounts:tokens"),
        "password change": reverse("accounts:password_change"),
        "new workspace": reverse("accounts:workspace-new"),
        "invite": reverse("accounts:invite-accept", args=[invite_token]),
        "login": reverse("accounts:login"),
        "signup": reverse("accounts:signup"),
    }


# (page, who): every page a PM (demo, the owner), a viewer and a stakeholder
# without an account reach.
PAGES = [
    *(
        (name, "pm")
        for name in [
            "workspace home",
            "strategy",
            "vision history",
            "backlog",
            "item",
            "scoring",
            "fields",
            "import",
            "launch reviews",
            "launch review",
            "workspace roadmaps",
            "product roadmaps",
            "timeline",
            "now next later",
            "status board",
            "portfolio",
            "roadmap entry",
            "share links",
            "feedback inbox",
            "question in the inbox",
            "feedback import",
            "customers",
            "spec",
            "spec versions",
            "questions",
            "company",
            "portal settings",
            "metrics",
            "metric",
            "members",
            "export and import",
            "tokens",
            "password change",
            "new workspace",
            "notifications",
            "email preferences",
            "discussion",
        ]
    ),
    *(
        (name, "viewer")
        for name in [
            "workspace home",
            "strategy",
            "backlog",
            "item",
            "timeline",
            "now next later",
            "feedback inbox",
            "metric",
            "members",
            "spec",
            "questions",
            "notifications",
        ]
    ),
    *(
        (name, "stakeholder")
        for name in [
            "shared page",
            "shared timeline",
            "shared entry",
            "shared page password",
            "shared page questions",
            "shared entry questions",
            "question confirmed",
            "portal",
            "invite",
            "login",
            "signup",
        ]
    ),
]
# The backlog table's phone layout (cards) belongs to its own work; every
# other page must fit a phone.
PHONE_PAGES = [(name, who) for name, who in PAGES if name != "backlog"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, _orm_beside_playwright):
    """The demo workspace, committed once, on a live server of the module's own
    (pytest-django's ``live_server`` would make every test flush the database)."""
    with django_db_blocker.unblock():
        with override_settings(
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        ):
            mail.outbox = []
            SeedDemo(stdout=_Null(), stderr=_Null()).seed()
        urls = _demo_urls()
        cookies = {
            "pm": _session_cookie(User.objects.get(username="demo")),
            "viewer": _session_cookie(User.objects.get(username="viewer")),
        }
        server = LiveServer("localhost")
    try:
        yield Demo(url=server.url, cookies=cookies, urls=urls)
    finally:
        # The browser contexts are closed by now (``pages`` is torn down
        # first); let the server's request threads see their connections
        # close before the server stops sharing the database connection
        # with them (an in-memory SQLite one is shared across threads).
        # One deadline for all of them: a keep-alive connection the browser
        # still holds idles in its read (82 of them once cost 10 s each).
        deadline = time.monotonic() + 10
        for thread in threading.enumerate():
            if "process_request_thread" in thread.name:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        server.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass


@pytest.fixture(scope="module")
def pages(browser, demo):
    """One page (in its own context) per person and mode, made on first use."""
    made: dict[tuple[str, str], object] = {}

    def page_for(who: str, mode: str):
        if (who, mode) not in made:
            context = browser.new_context(
                base_url=demo.url,
                color_scheme="dark" if mode == "dark" else "light",
                viewport=PHONE if mode == "phone" else DESKTOP,
            )
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            if who in demo.cookies:
                context.add_cookies([{**demo.cookies[who], "url": demo.url}])
            made[who, mode] = context.new_page()
        return made[who, mode]

    yield page_for
    for page in made.values():
        page.context.close()


def open_page(page_for: Callable, demo: Demo, name: str, who: str, mode: str):
    page = page_for(who, mode)
    response = page.goto(demo.urls[name])
    assert response.status == 200, f"{name} as {who}: HTTP {response.status}"
    if who == "stakeholder":
        assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    return page


def axe_violations(page, tags=WCAG_21_AA) -> list[str]:
    assert page.evaluate("typeof window.axe") == "undefined", "no page may load axe itself"
    page.add_script_tag(url=AXE)
    found = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {
            runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
          });
          return result.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + "\\n" +
            v.nodes.slice(0, 5).map((n) => "    " + n.target.join(" ") + " :: " +
              (n.failureSummary || "").replace(/\\s+/g, " ")).join("\\n"));
        }""",
        tags,
    )
    return found


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize(("name", "who"), PAGES, ids=[f"{n}-{w}" for n, w in PAGES])
def test_page_has_no_wcag_21_aa_violations(pages, demo, name, who, mode):
    page = open_page(pages, demo, name, who, mode)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (mode == "dark")
    violations = axe_violations(page)
    assert not violations, f"{name} as {who} ({mode}):\n" + "\n".join(violations)


@pytest.mark.parametrize(("name", "who"), PAGES, ids=[f"{n}-{w}" for n, w in PAGES])
def test_page_follows_axe_best_practices(pages, demo, name, who):
    page = open_page(pages, demo, name, who, "light")
    violations = axe_violations(page, BEST_PRACTICE)
    assert not violations, f"{name} as {who}:\n" + "\n".join(violations)


@pytest.mark.parametrize(("name", "who"), PHONE_PAGES, ids=[f"{n}-{w}" for n, w in PHONE_PAGES])
def test_page_fits_a_390px_phone(pages, demo, name, who):
    page = open_page(pages, demo, name, who, "phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
              .filter((el) => el.getBoundingClientRect().right > 391)
              .filter((el) => {
                for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                  if (getComputedStyle(up).overflowX !== "visible") return false;
                }
                return true;
              })
              .slice(0, 5).map((el) => el.tagName.toLowerCase() +
                (el.id ? "#" + el.id : "") + "." + [...el.classList].join(".") +
                " right=" + Math.round(el.getBoundingClientRect().right))"""
    )
    assert width <= PHONE["width"], f"{name} as {who} is {width}px wide: {wide}"
