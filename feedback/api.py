"""REST API of feedback/ (mounted under /api/v1/ by pmhub/urls.py)."""


def register(router) -> None:
    """Add this app's viewsets to the project's API router."""
