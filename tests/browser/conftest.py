"""Playwright in Debian's headless Chromium against pytest-django's live server.

Playwright's own browser download is blocked on these machines, so the
launch is pointed at ``/usr/bin/chromium``. The live server serves static
files itself (pytest-django uses ``StaticFilesHandler`` when
``django.contrib.staticfiles`` is installed), and settings use plain
``StaticFilesStorage`` under tests.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import require

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


BROWSER_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the browser tests last (after pytest-django's own reordering).

    Once Playwright's sync API starts, its event loop counts as running in the
    main thread until the session ends, and Django's ORM then needs
    ``DJANGO_ALLOW_ASYNC_UNSAFE``. Running these tests last keeps that
    variable out of every other test, and out of the environment of the
    subprocesses those tests start (``check --deploy`` rejects it).
    """
    items.sort(key=lambda item: item.path.resolve().is_relative_to(BROWSER_DIR))


@pytest.fixture(scope="session")
def _orm_beside_playwright():
    """Allow synchronous ORM calls (fixtures, assertions) while Playwright's
    event loop is running; set before Playwright starts, removed after it stops."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def playwright(_orm_beside_playwright, playwright):
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative ``page.goto("/…")`` goes to the live server.

    Defining it here also keeps pytest-playwright's fallback ``base_url``
    (a fixture method on a plugin object, which pytest 9.2 deprecates with a
    warning that this suite turns into an error) out of the picture.
    """
    return live_server.url


@pytest.fixture
def page(page):
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return page


# Requests a page makes in the background, on its own: its live stream and
# presence (static/js/live.js) and the bell's refresh (the header).
_BACKGROUND = ("/live/", "/notifications/bell/")


def _live_stream_left(request) -> bool:
    """A page's live stream is open until the page goes away, and the bell
    refreshes whenever a live event arrives: leaving or reloading the page
    aborts them, as it does any request in flight. Not an error."""
    return any(part in request.url for part in _BACKGROUND) and "ERR_ABORTED" in (
        request.failure or ""
    )


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
        lambda request: (
            None
            if _live_stream_left(request)
            else errors.append(f"requestfailed: {request.url} {request.failure}")
        ),
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
