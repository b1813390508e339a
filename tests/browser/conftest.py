"""Playwright in Debian's headless Chromium against pytest-django's live server.

Playwright's own browser download is blocked on these machines, so the
launch is pointed at ``/usr/bin/chromium``. The live server serves static
files itself (pytest-django uses ``StaticFilesHandler`` when
``django.contrib.staticfiles`` is installed), and settings use plain
``StaticFilesStorage`` under tests.
"""

import os

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import require

# Playwright's sync API keeps an event loop running in the main thread for the
# rest of the session; Django's ORM calls from fixtures and assertions are
# still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "secret-pass-123"  # tests/factories.py
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture
def page(page):
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return page


@pytest.fixture
def browser_errors(page):
    """Console errors, uncaught page errors and CSP violations seen by ``page``."""
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "requestfailed",
        lambda request: errors.append(f"requestfailed: {request.url} {request.failure}"),
    )
    # Runs before any page script and is exempt from the page's CSP.
    page.add_init_script(
        """
        window.__cspViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => {
          window.__cspViolations.push(
            e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
            (e.sourceFile || "?") + ":" + e.lineNumber
          );
        });
        """
    )
    return errors


@pytest.fixture
def login(live_server, page):
    """Log ``page`` in as a user without the form (a session cookie)."""

    def login_as(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return login_as


def mark_document(page) -> None:
    """Tag the current document; ``document_kept(page)`` is then True until a
    full page load replaces it (an htmx swap keeps it)."""
    page.evaluate("window.__pmhubMarker = 'kept'")


def document_kept(page) -> bool:
    return page.evaluate("window.__pmhubMarker === 'kept'")
