from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    """Keyset (cursor) pagination: no OFFSET, no COUNT(*), and following
    ``next`` returns every row exactly once even while rows are added."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        """The requested ordering plus ``id`` as a tie-breaker. Without it rows
        that share a value (a name, a timestamp) come back in no fixed order,
        and PostgreSQL then repeats some rows and skips others across pages.
        Ascending ``id`` puts rows added later at the end of their tie group,
        behind the rows a cursor has already counted."""
        ordering = super().get_ordering(request, queryset, view)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "id")
        return ordering
