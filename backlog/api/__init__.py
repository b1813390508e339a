"""REST API of the backlog: items (CRUD, filters, keyset pagination, moves),
scoring models, and hypotheses with their launch reviews."""

from .hypotheses import HypothesisViewSet
from .structure import CustomFieldViewSet, SavedViewViewSet
from .views import ItemViewSet, ScoringModelViewSet

__all__ = [
    "CustomFieldViewSet",
    "HypothesisViewSet",
    "ItemViewSet",
    "SavedViewViewSet",
    "ScoringModelViewSet",
]
