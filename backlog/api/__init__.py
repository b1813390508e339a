"""REST API of the backlog: items (CRUD, filters, keyset pagination, moves)
and scoring models."""

from .views import ItemViewSet, ScoringModelViewSet

__all__ = ["ItemViewSet", "ScoringModelViewSet"]
