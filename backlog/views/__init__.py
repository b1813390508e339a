"""HTML views of the backlog, one module per screen: ``table`` (the backlog
page, quick add, bulk edit, saved views), ``cells`` (inline edits), ``item``
(the item page, delete, moves), ``scoring``, ``fields``, ``importing``,
``export`` and ``launch`` (launch reviews). Thin: they parse input, call
``backlog.services``, read through QuerySet methods and ``backlog.reads``,
and render; backlog/urls.py maps each URL to its module's view."""
