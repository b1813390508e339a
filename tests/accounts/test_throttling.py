"""Sign-in throttling (django-axes): the login page, the admin login and
failed API tokens, keyed on the client address (and the account at that
address), never on the account alone; a cool-off ends every lockout."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

import pmhub.settings as production
from pmhub.accounts.services import create_api_token
from pmhub.clientip import client_ip

LOGIN = "/accounts/login/"
ATTACKER = "198.51.100.66"
HOME = "203.0.113.10"


@pytest.fixture(autouse=True)
def production_limit(settings):
    """The limit a deployment has (tests/settings.py lifts it for other tests)."""
    settings.AXES_FAILURE_LIMIT = production.AXES_FAILURE_LIMIT


def _login(client, password, *, addr, username="pm", path=LOGIN, **extra):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=addr, **extra
    )


def _age_attempts(seconds: float) -> None:
    """Let time pass for the recorded failures."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - dt.timedelta(seconds=seconds)
        )


def test_sixty_wrong_passwords_are_throttled_while_the_user_signs_in_elsewhere(client, pm):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [_login(client, f"guess-{n}", addr=ATTACKER).status_code for n in range(60)]

    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form with its error
    assert set(statuses[limit - 1 :]) == {429}
    # From the attacker's address even the right password is not checked.
    locked = _login(client, "secret-pass-123", addr=ATTACKER)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The real user, from home, signs in at once.
    assert _login(client, "secret-pass-123", addr=HOME).status_code == 302
    assert client.session["_auth_user_id"] == str(pm.pk)


def test_a_lockout_says_when_to_retry(client, pm):
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, f"guess-{n}", addr=ATTACKER)

    assert response.status_code == 429
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert response["Retry-After"] == str(seconds)
    assert f"Try again in {seconds // 60} minutes" in response.content.decode()


def test_spraying_many_accounts_from_one_address_is_throttled(client, pm, teammate, viewer):
    names = ["pm", teammate.username, viewer.username, "nobody"]
    statuses = [
        _login(client, "wrong", addr=ATTACKER, username=names[n % 4]).status_code
        for n in range(settings.AXES_FAILURE_LIMIT + 2)
    ]
    assert statuses[-1] == 429


def test_the_lockout_ends_after_the_cool_off_and_attempts_meanwhile_do_not_extend_it(client, pm):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit):
        _login(client, f"guess-{n}", addr=ATTACKER)
    counted = dict(AccessAttempt.objects.values_list("username", "failures_since_start"))
    times = set(AccessAttempt.objects.values_list("attempt_time", flat=True))

    for n in range(20):  # the attacker keeps trying while refused
        assert _login(client, f"more-{n}", addr=ATTACKER).status_code == 429

    assert dict(AccessAttempt.objects.values_list("username", "failures_since_start")) == counted
    assert set(AccessAttempt.objects.values_list("attempt_time", flat=True)) == times
    _age_attempts(settings.AXES_COOLOFF_TIME.total_seconds() + 1)
    assert _login(client, "secret-pass-123", addr=ATTACKER).status_code == 302


def test_the_admin_login_is_throttled_too(client, pm):
    pm.is_staff = pm.is_superuser = True
    pm.save()
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, f"guess-{n}", addr=ATTACKER, path="/admin/login/")

    assert response.status_code == 429
    assert _login(client, "secret-pass-123", addr=ATTACKER, path="/admin/login/").status_code == 429
    assert _login(client, "secret-pass-123", addr=HOME, path="/admin/login/").status_code == 302


def test_failed_api_tokens_are_throttled_per_address(pm, db):
    _token, raw = create_api_token(pm, name="script")
    limit = settings.AXES_FAILURE_LIMIT
    attacker = APIClient(REMOTE_ADDR=ATTACKER)
    attacker.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")

    statuses = [attacker.get("/api/v1/products/").status_code for _ in range(limit + 5)]

    assert statuses[: limit - 1] == [401] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    refused = attacker.get("/api/v1/products/")
    assert int(refused["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "detail" in refused.json()
    # A real token from the throttled address is refused before it is looked up ...
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert attacker.get("/api/v1/products/").status_code == 429
    # ... and works from anywhere else.
    script = APIClient(REMOTE_ADDR=HOME)
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert script.get("/api/v1/products/").status_code == 200


def test_good_tokens_are_never_counted(pm, db):
    _token, raw = create_api_token(pm, name="script")
    script = APIClient(REMOTE_ADDR=HOME)
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert script.get("/api/v1/products/").status_code == 200
    assert not AccessAttempt.objects.exists()


# --- the client address ---------------------------------------------------------


def _request(remote="10.0.0.2", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.2"),  # by default no header is trusted
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # what the client wrote itself is ignored
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),
        (2, "1.2.3.4", "10.0.0.2"),  # did not pass every trusted proxy
        (1, "not-an-address", "10.0.0.2"),
        (1, None, "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_behind_trusted_proxies(count, forwarded, expected):
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_ip(_request(forwarded=forwarded)) == expected


@pytest.mark.parametrize("remote", ["", "unix:/run/gunicorn.sock", "not an address"])
def test_a_request_without_a_usable_address_counts_as_unknown(remote):
    assert client_ip(_request(remote=remote)) == "0.0.0.0"


def test_failed_tokens_without_a_client_address_are_counted_not_a_500(pm, db):
    client = APIClient(REMOTE_ADDR="")
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    statuses = [
        client.get("/api/v1/products/").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert AccessAttempt.objects.get().ip_address == "0.0.0.0"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_load_balancer_the_lockout_keys_on_the_forwarded_client(client, pm):
    balancer = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"guess-{n}", addr=balancer, HTTP_X_FORWARDED_FOR=ATTACKER)

    spoofed = f"{HOME}, {ATTACKER}"  # a forged first entry changes nothing
    assert _login(client, "x", addr=balancer, HTTP_X_FORWARDED_FOR=spoofed).status_code == 429
    ok = _login(client, "secret-pass-123", addr=balancer, HTTP_X_FORWARDED_FOR=HOME)
    assert ok.status_code == 302


def test_sign_up_is_limited_per_address(client, db):
    from pmhub.accounts.models import User

    limit = settings.SIGNUP_LIMIT[0]

    def sign_up(n, addr):
        password = "a-long-passphrase-9"
        return client.post(
            "/accounts/signup/",
            {"username": f"new{n}", "password1": password, "password2": password},
            REMOTE_ADDR=addr,
        )

    for n in range(limit):
        assert sign_up(n, ATTACKER).status_code == 302
        client.logout()
    refused = sign_up(limit, ATTACKER)

    assert refused.status_code == 429 and refused["Retry-After"]
    assert "Too many new accounts" in refused.content.decode()
    assert User.objects.filter(username__startswith="new").count() == limit
    assert sign_up(limit + 1, HOME).status_code == 302
