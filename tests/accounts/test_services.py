from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pmhub.accounts import services
from pmhub.accounts.models import ApiToken, Invite, Membership, Role, hash_token
from tests.factories import UserFactory


def test_creating_a_workspace_makes_the_creator_owner(db):
    user = UserFactory()
    ws = services.create_workspace(user, name="Globex Corp")
    assert ws.slug == "globex-corp"
    assert Membership.objects.get(workspace=ws, user=user).role == Role.OWNER


def test_workspace_slugs_stay_unique(db):
    user = UserFactory()
    a = services.create_workspace(user, name="Same")
    b = services.create_workspace(user, name="Same")
    assert a.slug != b.slug


def test_workspace_needs_a_name(db):
    with pytest.raises(ValidationError):
        services.create_workspace(UserFactory(), name="  ")


def test_invite_is_single_use(pm, workspace):
    invite, raw = services.create_invite(pm, workspace=workspace, role=Role.VIEWER)
    assert invite.token_hash == hash_token(raw) and raw not in invite.token_hash
    newcomer, latecomer = UserFactory(), UserFactory()
    membership = services.accept_invite(newcomer, raw_token=raw)
    assert membership.role == Role.VIEWER
    with pytest.raises(services.InviteInvalid):
        services.accept_invite(latecomer, raw_token=raw)
    assert not Membership.objects.filter(user=latecomer).exists()


def test_expired_invite_is_refused(pm, workspace):
    invite, raw = services.create_invite(pm, workspace=workspace, role=Role.EDITOR)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InviteInvalid):
        services.accept_invite(UserFactory(), raw_token=raw)


def test_revoked_invite_is_refused(pm, workspace):
    invite, raw = services.create_invite(pm, workspace=workspace, role=Role.EDITOR)
    services.revoke_invite(pm, invite=invite)
    with pytest.raises(services.InviteInvalid):
        services.accept_invite(UserFactory(), raw_token=raw)


def test_only_admins_invite(teammate, viewer, workspace):
    for user in (teammate, viewer):
        with pytest.raises(PermissionDenied):
            services.create_invite(user, workspace=workspace, role=Role.EDITOR)


def test_admin_cannot_invite_an_owner(admin_member, workspace):
    with pytest.raises(PermissionDenied):
        services.create_invite(admin_member, workspace=workspace, role=Role.OWNER)


def test_last_owner_cannot_be_demoted_or_removed(pm, workspace):
    mine = Membership.objects.get(user=pm, workspace=workspace)
    with pytest.raises(services.LastOwner):
        services.change_role(pm, membership=mine, role=Role.ADMIN)
    with pytest.raises(services.LastOwner):
        services.remove_member(pm, membership=mine)
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_owner_can_step_down_once_another_owner_exists(pm, teammate, workspace):
    theirs = Membership.objects.get(user=teammate, workspace=workspace)
    services.change_role(pm, membership=theirs, role=Role.OWNER)
    mine = Membership.objects.get(user=pm, workspace=workspace)
    services.change_role(pm, membership=mine, role=Role.EDITOR)
    assert Membership.objects.get(pk=mine.pk).role == Role.EDITOR


def test_admin_cannot_touch_owners(pm, admin_member, workspace):
    owner = Membership.objects.get(user=pm, workspace=workspace)
    with pytest.raises(PermissionDenied):
        services.change_role(admin_member, membership=owner, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.remove_member(admin_member, membership=owner)


def test_editor_cannot_manage_members(teammate, viewer, workspace):
    theirs = Membership.objects.get(user=viewer, workspace=workspace)
    with pytest.raises(PermissionDenied):
        services.change_role(teammate, membership=theirs, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.remove_member(teammate, membership=theirs)


def test_members_can_leave(pm, viewer, workspace):
    services.remove_member(viewer, membership=Membership.objects.get(user=viewer))
    assert not Membership.objects.filter(user=viewer).exists()


def test_api_token_is_stored_hashed(pm):
    token, raw = services.create_api_token(pm, name="CI")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(v) for v in stored.values()}
    assert stored["token_hash"] == hash_token(raw)
    assert services.authenticate_token(raw).pk == token.pk


def test_revoked_and_expired_tokens_do_not_authenticate(pm):
    revoked, raw_revoked = services.create_api_token(pm, name="old")
    services.revoke_api_token(pm, token=revoked)
    expiring, raw_expiring = services.create_api_token(
        pm, name="soon", expires_at=timezone.now() + timedelta(hours=1)
    )
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.authenticate_token(raw_revoked) is None
    assert services.authenticate_token(raw_expiring) is None


def test_token_expiry_must_be_in_the_future(pm):
    with pytest.raises(ValidationError):
        services.create_api_token(pm, name="x", expires_at=timezone.now() - timedelta(days=1))


def test_last_use_is_recorded_at_most_once_a_minute(pm, django_assert_num_queries):
    _token, raw = services.create_api_token(pm, name="CI")
    services.authenticate_token(raw)  # first use writes
    with django_assert_num_queries(1):  # the lookup only; no write within the minute
        services.authenticate_token(raw)


def test_users_revoke_only_their_own_tokens(pm, teammate):
    token, _raw = services.create_api_token(pm, name="mine")
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(teammate, token=token)
