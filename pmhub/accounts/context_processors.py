from .models import Workspace


def workspace_nav(request):
    """The signed-in user's workspaces, for the switcher in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_workspaces": Workspace.objects.visible_to(user).only("name", "slug")}


def product_tabs(request):
    """The product section tabs registered by the apps (see pmhub.navigation)."""
    from pmhub.navigation import product_tabs as tabs
    from pmhub.navigation import workspace_links

    return {"product_tabs": tabs(), "workspace_links": workspace_links()}
