"""Input edge for every request: text no column can store is a 400 here,
before a view turns it into a query.

A NUL character survives URL decoding (``?q=%00``, ``/p/%00/``) and form
decoding, and PostgreSQL refuses it in any text parameter (a ``ValueError``
deep in a query, or, in a streamed CSV export, a dead stream after the 200).
Query strings, form fields and the path are checked once here; JSON bodies
are checked by the API's parser (``pmhub.api.parsers``). Invalid UTF-8 in a
query string or form is already replaced by Django's decoder, so NUL is what
is left to refuse.
"""

from django.core.exceptions import BadRequest
from django.http import JsonResponse

from pmhub.api.parsers import NUL_MESSAGE

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectUnstorableTextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._nul_field(request)
        if field is not None:
            if request.path.startswith("/api/"):
                body = {"detail": NUL_MESSAGE} if field == "detail" else {field: [NUL_MESSAGE]}
                return JsonResponse(body, status=400)
            raise BadRequest(f"{field}: {NUL_MESSAGE}")
        return self.get_response(request)

    @staticmethod
    def _nul_field(request) -> str | None:
        if "\x00" in request.path:
            return "detail"
        sources = [request.GET]
        # The API takes JSON only (its parser checks the text); reading a form
        # body here would keep DRF from answering it with 415.
        api = request.path.startswith("/api/")
        if request.method == "POST" and request.content_type in _FORM_TYPES and not api:
            sources.append(request.POST)
        for data in sources:
            for key, values in data.lists():
                if "\x00" in key:
                    return "detail"
                if any("\x00" in value for value in values):
                    return key
        return None
