from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pmhub.clientip import client_ip
from pmhub.errors import DomainError
from pmhub.ratelimit import RateLimited, hit
from pmhub.web import apply_errors, get_in_workspace

from . import services
from .decorators import workspace_view
from .forms import ApiTokenForm, InviteForm, RoleForm, SignUpForm, WorkspaceForm
from .models import ApiToken, Invite, Membership, Role, Workspace


def signup(request):
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is turned off on this server.")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hit("signup", client_ip(request), settings.SIGNUP_LIMIT)
        except RateLimited as exc:
            form.add_error(None, "Too many new accounts from your network; try again in an hour.")
            response = render(request, "registration/signup.html", {"form": form}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        try:
            user = services.sign_up(
                username=form.cleaned_data["username"],
                email=form.cleaned_data.get("email", ""),
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(request.GET.get("next") or "accounts:home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def home(request):
    """Send the user to their last workspace, or to create their first."""
    workspaces = Workspace.objects.visible_to(request.user)
    last = request.session.get("workspace")
    if last and workspaces.filter(slug=last).exists():
        return redirect("products:workspace", slug=last)
    first = workspaces.first()
    if first is not None:
        return redirect("products:workspace", slug=first.slug)
    return redirect("accounts:workspace-new")


@login_required
def workspace_new(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.create_workspace(request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session["workspace"] = workspace.slug
            messages.success(request, f"Workspace “{workspace.name}” created.")
            return redirect("products:workspace", slug=workspace.slug)
    return render(request, "accounts/workspace_new.html", {"form": form})


@workspace_view()
def members(request):
    workspace = request.workspace
    context = {
        "workspace": workspace,
        "members": Membership.objects.in_workspace(workspace).for_members_page(),
        "invites": Invite.objects.in_workspace(workspace).pending().select_related("created_by")
        if request.can_admin
        else [],
        "invite_form": InviteForm(),
        "roles": Role.choices,
        "my_membership": Membership.objects.filter(workspace=workspace, user=request.user).first(),
        "new_invite_url": request.session.pop("new_invite_url", None),
    }
    return render(request, "accounts/members.html", context)


@require_POST
@workspace_view(admin=True)
def invite_create(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        _invite, raw = services.create_invite(
            request.user,
            workspace=request.workspace,
            role=form.cleaned_data["role"],
            note=form.cleaned_data["note"],
        )
        # Shown once, on the next page view; only the hash is stored.
        request.session["new_invite_url"] = request.build_absolute_uri(
            reverse("accounts:invite-accept", args=[raw])
        )
        messages.success(request, "Invite link created. Copy it now: it is shown only once.")
    else:
        messages.error(request, "Choose a valid role for the invite.")
    return redirect("accounts:members", slug=request.workspace.slug)


@require_POST
@workspace_view(admin=True)
def invite_revoke(request, pk):
    invite = get_in_workspace(request, Invite, pk=pk)
    services.revoke_invite(request.user, invite=invite)
    messages.success(request, "Invite revoked.")
    return redirect("accounts:members", slug=request.workspace.slug)


@require_POST
@workspace_view()
def member_role(request, pk):
    membership = get_in_workspace(request, Membership, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.change_role(
                request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
    return redirect("accounts:members", slug=request.workspace.slug)


@require_POST
@workspace_view()
def member_remove(request, pk):
    membership = get_in_workspace(request, Membership, pk=pk)
    leaving = membership.user_id == request.user.pk
    try:
        services.remove_member(request.user, membership=membership)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:members", slug=request.workspace.slug)
    if leaving:
        request.session.pop("workspace", None)
        messages.success(request, f"You left {request.workspace}.")
        return redirect("accounts:home")
    messages.success(request, f"{membership.user} was removed.")
    return redirect("accounts:members", slug=request.workspace.slug)


@never_cache
def invite_accept(request, token):
    try:
        invite = services.find_invite(token)
    except services.InviteInvalid as exc:
        return render(request, "accounts/invite.html", {"error": exc.message}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = services.accept_invite(request.user, raw_token=token)
        except services.InviteInvalid as exc:
            return render(request, "accounts/invite.html", {"error": exc.message}, status=404)
        messages.success(request, f"Welcome to {membership.workspace}.")
        return redirect("products:workspace", slug=membership.workspace.slug)
    return render(request, "accounts/invite.html", {"invite": invite, "token": token})


@login_required
def tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.create_api_token(
                request.user,
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["read_only"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    response = render(request, "accounts/tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_api_token(request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")
