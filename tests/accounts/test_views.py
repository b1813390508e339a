import subprocess
import sys

import pytest
from django.test import override_settings

from pmhub.accounts.models import ApiToken, Invite, Membership, Role, User


def test_login_and_land_in_the_workspace(client, pm, workspace):
    response = client.post("/accounts/login/", {"username": "pm", "password": "secret-pass-123"})
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/w/acme/"


def test_signup_creates_an_account(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "n@example.com",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(username="newbie").exists()
    assert client.get("/").url == "/workspaces/new/"


@override_settings(SIGNUP_ENABLED=False)
def test_signup_can_be_turned_off(client, db):
    assert client.get("/accounts/signup/").status_code == 404
    client.post(
        "/accounts/signup/",
        {"username": "x", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"},
    )
    assert not User.objects.filter(username="x").exists()


def test_logout_needs_post(as_user, pm):
    client = as_user(pm)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/w/acme/").status_code == 302


def test_password_change(as_user, pm):
    response = as_user(pm).post(
        "/accounts/password/",
        {
            "old_password": "secret-pass-123",
            "new_password1": "another-long-pass-7",
            "new_password2": "another-long-pass-7",
        },
    )
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.check_password("another-long-pass-7")


def test_create_workspace_page(as_user, pm):
    response = as_user(pm).post("/workspaces/new/", {"name": "Side Project"})
    assert response.status_code == 302
    assert Membership.objects.get(user=pm, workspace__name="Side Project").role == Role.OWNER


def test_switch_between_workspaces(as_user, pm, workspace):
    client = as_user(pm)
    client.post("/workspaces/new/", {"name": "Second"})
    assert client.get("/").url == "/w/second/"
    client.get("/w/acme/")
    assert client.get("/").url == "/w/acme/"
    html = client.get("/w/acme/").content.decode()
    assert 'href="/w/second/"' in html  # the switcher lists both


def test_invite_flow_end_to_end(as_user, pm, client, db):
    as_user(pm).post("/w/acme/invites/", {"role": "viewer", "note": "Dana"})
    html = client.get("/w/acme/members/").content.decode()
    start = html.index("/invite/inv_")
    link = html[start : html.index('"', start)]
    client.logout()
    newcomer = User.objects.create_user("dana", password="secret-pass-123")
    client.force_login(newcomer)
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer).role == Role.VIEWER
    assert client.post(link).status_code == 404  # single use
    # The link was shown once: the members page no longer has it.
    client.force_login(pm)
    assert "/invite/inv_" not in client.get("/w/acme/members/").content.decode()


def test_invite_link_is_not_stored(as_user, pm):
    as_user(pm).post("/w/acme/invites/", {"role": "editor"})
    invite = Invite.objects.get()
    assert len(invite.token_hash) == 64


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_only_admins_manage_members(request, as_user, who, pm):
    user = request.getfixturevalue(who)
    client = as_user(user)
    owner = Membership.objects.get(user=pm)
    assert client.post("/w/acme/invites/", {"role": "editor"}).status_code == 403
    assert client.post(f"/w/acme/members/{owner.pk}/role/", {"role": "viewer"}).status_code == 403
    assert client.post(f"/w/acme/members/{owner.pk}/remove/").status_code == 403
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_last_owner_demotion_is_refused_with_a_message(as_user, pm):
    mine = Membership.objects.get(user=pm)
    response = as_user(pm).post(f"/w/acme/members/{mine.pk}/role/", {"role": "viewer"}, follow=True)
    assert "last owner" in response.content.decode()
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_admin_changes_a_role(as_user, admin_member, viewer):
    theirs = Membership.objects.get(user=viewer)
    as_user(admin_member).post(f"/w/acme/members/{theirs.pk}/role/", {"role": "editor"})
    assert Membership.objects.get(pk=theirs.pk).role == Role.EDITOR


def test_stranger_cannot_see_members(as_user, stranger, workspace):
    assert as_user(stranger).get("/w/acme/members/").status_code == 404


def test_token_is_shown_once_and_stored_hashed(as_user, pm):
    client = as_user(pm)
    html = client.post("/accounts/tokens/", {"name": "CI", "read_only": "on"}).content.decode()
    token = ApiToken.objects.get(user=pm)
    start = html.index("pmh_")
    raw = html[start : html.index('"', start)]
    assert token.read_only and raw not in token.token_hash
    assert raw not in client.get("/accounts/tokens/").content.decode()


def test_revoke_token_from_settings_page(as_user, pm, teammate):
    client = as_user(pm)
    client.post("/accounts/tokens/", {"name": "CI"})
    token = ApiToken.objects.get(user=pm)
    assert as_user(teammate).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    as_user(pm).post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_every_html_page_has_a_strict_csp(as_user, pm, product):
    response = as_user(pm).get("/w/acme/p/PAY/")
    csp = response["Content-Security-Policy"]
    assert "'nonce-" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_create_api_token_command_prints_the_token_last(pm, capsys):
    from django.core.management import call_command

    call_command("create_api_token", "pm", "--read-only")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("pmh_")
    assert ApiToken.objects.get(user=pm).read_only


def test_seed_demo_is_idempotent(db, settings):
    from django.core.management import call_command

    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo")
    counts = (User.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Membership.objects.count()) == counts
    assert User.objects.get(username="demo").check_password("demo")


def test_seed_demo_refuses_without_debug():
    env = {"DEBUG": "false", "SECRET_KEY": "x" * 60, "PATH": "/usr/bin:/bin", "ALLOWED_HOSTS": "x"}
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "refuses to run with DEBUG off" in result.stderr
