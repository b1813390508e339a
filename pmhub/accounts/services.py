"""Writes for accounts, workspaces, memberships, invites and API tokens."""

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.text import slugify

from pmhub import activity
from pmhub.errors import DomainError

from .models import (
    ADMIN_ROLES,
    EDIT_ROLES,
    ApiToken,
    Invite,
    Membership,
    Role,
    User,
    Workspace,
    hash_token,
    new_secret,
)


class LastOwner(DomainError):
    """A workspace must keep at least one owner."""


class InviteInvalid(DomainError):
    """This invite link is invalid, expired or already used."""

    status_code = 404


# --- permission checks ------------------------------------------------------


def role_in(user, workspace) -> str | None:
    """The user's role in the workspace, or None for non-members."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(workspace=workspace, user=user)
        .values_list("role", flat=True)
        .first()
    )


def require_member(user, workspace) -> str:
    role = role_in(user, workspace)
    if role is None:
        raise PermissionDenied("Not a member of this workspace.")
    return role


def require_editor(user, workspace) -> str:
    role = require_member(user, workspace)
    if role not in EDIT_ROLES:
        raise PermissionDenied("Viewers cannot change anything.")
    return role


def require_admin(user, workspace) -> str:
    role = require_member(user, workspace)
    if role not in ADMIN_ROLES:
        raise PermissionDenied("Only owners and admins manage members.")
    return role


def require_workspace_user(workspace_id: int, user, *, field: str = "owner") -> None:
    """A user assigned to something (an owner) must be a member of its workspace."""
    if (
        user is not None
        and not Membership.objects.filter(workspace_id=workspace_id, user=user).exists()
    ):
        raise ValidationError({field: "The owner must be a member of this workspace."})


# --- users and workspaces ----------------------------------------------------


@transaction.atomic
def sign_up(*, username: str, email: str, password: str) -> User:
    """Create a user account (the form has validated the password)."""
    if not settings.SIGNUP_ENABLED:
        raise PermissionDenied("Sign-up is turned off on this server.")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    return User.objects.create_user(username=username, email=email, password=password)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_workspace(actor: User, *, name: str) -> Workspace:
    """Create a workspace with the actor as its owner."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the workspace a name."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name under 100 characters."})
    workspace = Workspace.objects.create(name=name, slug=_unique_slug(name))
    Membership.objects.create(workspace=workspace, user=actor, role=Role.OWNER)
    activity.record(workspace, "workspace.created", workspace, actor=actor)
    return workspace


def _record_member(actor, verb: str, membership: Membership, changes=None) -> None:
    activity.record(
        membership.workspace_id,
        verb,
        membership,
        changes=changes,
        object_title=str(membership.user),
        actor=actor,
    )


# --- members -----------------------------------------------------------------


def _lock_owners(workspace: Workspace) -> int:
    """Lock the workspace's owner rows and count them, so two concurrent
    demotions cannot both see "another owner is left"."""
    return len(
        Membership.objects.select_for_update()
        .filter(workspace=workspace, role=Role.OWNER)
        .values_list("pk", flat=True)
    )


@transaction.atomic
def change_role(actor: User, *, membership: Membership, role: str) -> Membership:
    """Give a member another role. Only owners make or unmake owners."""
    actor_role = require_admin(actor, membership.workspace)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if Role.OWNER in (role, membership.role) and actor_role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or remove the owner role.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and _lock_owners(membership.workspace) <= 1
    ):
        raise LastOwner("The last owner cannot be demoted; make someone else owner first.")
    old_role, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    if old_role != role:
        _record_member(actor, "member.role_changed", membership, {"role": [old_role, role]})
    return membership


@transaction.atomic
def remove_member(actor: User, *, membership: Membership) -> None:
    """Remove a member (or leave, when the actor removes themself)."""
    if membership.user_id != actor.pk:
        actor_role = require_admin(actor, membership.workspace)
        if membership.role == Role.OWNER and actor_role != Role.OWNER:
            raise PermissionDenied("Only an owner can remove an owner.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.OWNER and _lock_owners(membership.workspace) <= 1:
        raise LastOwner("The last owner cannot be removed; make someone else owner first.")
    verb = "member.left" if membership.user_id == actor.pk else "member.removed"
    _record_member(actor, verb, membership, {"role": [membership.role, None]})
    membership.delete()


@transaction.atomic
def create_invite(
    actor: User, *, workspace: Workspace, role: str, note: str = ""
) -> tuple[Invite, str]:
    """Create a single-use invite link; returns the invite and its secret token
    (shown once: only the hash is stored)."""
    actor_role = require_admin(actor, workspace)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise PermissionDenied("Only an owner can invite another owner.")
    raw = new_secret("inv")
    invite = Invite.objects.create(
        workspace=workspace,
        role=role,
        note=note.strip()[:200],
        token_hash=hash_token(raw),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITE_TTL_DAYS),
    )
    activity.record(
        workspace, "invite.created", invite, object_title=invite.note or role, actor=actor
    )
    return invite, raw


def find_invite(raw_token: str) -> Invite:
    """The pending invite for a raw token, or InviteInvalid."""
    invite = (
        Invite.objects.pending()
        .select_related("workspace")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invite is None:
        raise InviteInvalid()
    return invite


@transaction.atomic
def accept_invite(actor: User, *, raw_token: str) -> Membership:
    """Join the invite's workspace. The claim is one conditional UPDATE, so a
    link used twice at once admits exactly one person."""
    invite = find_invite(raw_token)
    claimed = (
        Invite.objects.pending().filter(pk=invite.pk).update(used_at=timezone.now(), used_by=actor)
    )
    if claimed != 1:
        raise InviteInvalid()
    existing = Membership.objects.filter(workspace=invite.workspace, user=actor).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                workspace=invite.workspace, user=actor, role=invite.role
            )
    except IntegrityError:
        return Membership.objects.get(workspace=invite.workspace, user=actor)
    _record_member(actor, "member.joined", membership, {"role": [None, invite.role]})
    return membership


@transaction.atomic
def revoke_invite(actor: User, *, invite: Invite) -> None:
    require_admin(actor, invite.workspace)
    if Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        activity.record(
            invite.workspace_id,
            "invite.revoked",
            invite,
            object_title=invite.note or invite.role,
            actor=actor,
        )


# --- API tokens ----------------------------------------------------------------


@transaction.atomic
def create_api_token(
    actor: User, *, name: str, read_only: bool = False, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns it with the secret, shown once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after where it is used."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    raw = new_secret("pmh")
    token = ApiToken.objects.create(
        user=actor,
        name=name[:100],
        token_hash=hash_token(raw),
        prefix=raw[:12],
        read_only=read_only,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(actor: User, *, token: ApiToken) -> None:
    if token.user_id != actor.pk:
        raise PermissionDenied("You can only revoke your own tokens.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token for a raw secret, with its user, or None.

    The API runs this on every request, so it is one plain statement: the
    token and its user by the unique hash; whether both are active is
    checked here, in Python."""
    token = _token_with_user(hash_token(raw))
    if token is None or not token.is_active or not token.user.is_active:
        return None
    touch_api_token(token)
    return token


@functools.cache
def _token_statement(alias: str):
    """SELECT the token and its user by hash, and the model, field names and
    columns each part of a row loads, for one database: built once, since
    compiling the same query on every request cost more than running it."""
    qn = connections[alias].ops.quote_name
    columns, parts = [], []
    for model in (ApiToken, User):
        table = model._meta.db_table
        fields = model._meta.concrete_fields
        columns += [f"{qn(table)}.{qn(field.column)}" for field in fields]
        parts.append((model, [f.attname for f in fields], [f.get_col(table) for f in fields]))
    token, user = qn(ApiToken._meta.db_table), qn(User._meta.db_table)
    user_fk = qn(ApiToken._meta.get_field("user").column)
    token_hash = qn(ApiToken._meta.get_field("token_hash").column)
    sql = (
        f"SELECT {', '.join(columns)} FROM {token} "
        f"INNER JOIN {user} ON {user}.{qn(User._meta.pk.column)} = {token}.{user_fk} "
        f"WHERE {token}.{token_hash} = %s"
    )
    return sql, parts


def _token_with_user(token_hash: str) -> ApiToken | None:
    alias = router.db_for_read(ApiToken)
    sql, parts = _token_statement(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, names, cols in parts:
        values = list(row[start : start + len(names)])
        start += len(names)
        # What the ORM does to each value (SQLite hands datetimes over as text).
        for n, col in enumerate(cols):
            for convert in (
                *connection.ops.get_db_converters(col),
                *col.get_db_converters(connection),
            ):
                values[n] = convert(values[n], col, connection)
        instances.append(model.from_db(alias, names, values))
    token, user = instances
    token.user = user
    return token


def touch_api_token(token: ApiToken) -> None:
    """Record last use at most once a minute per token (reads stay cheap)."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
