from drf_spectacular.openapi import AutoSchema

from .serializers import VersionedSerializer, update_serializer

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_MESSAGES = {"type": "array", "items": {"type": "string"}}
_FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Field name → list of messages (`non_field_errors` for the whole object); "
        "a nested field (an object or a list) gives its errors nested the same way."
    ),
    "additionalProperties": {
        "anyOf": [_MESSAGES, {"type": "object"}, {"type": "array", "items": {"type": "object"}}]
    },
}


# A 400 is either field messages or one message for the request as a whole
# (a body that is not JSON, or nests too deep: DRF's ParseError).
_BAD_REQUEST = {"anyOf": [_DETAIL, _FIELD_ERRORS]}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class PMHubAutoSchema(AutoSchema):
    """Documents the error responses every endpoint can give, so the schema
    tells the truth (drf-spectacular lists only the success response)."""

    def get_request_serializer(self):
        """A PUT's body may leave out the create-only fields (kept as they are)."""
        serializer = super().get_request_serializer()
        serializer_class = serializer if isinstance(serializer, type) else type(serializer)
        if (
            self.method == "PUT"
            and issubclass(serializer_class, VersionedSerializer)
            and getattr(serializer_class.Meta, "create_only", ())
        ):
            return update_serializer(serializer_class)
        return serializer

    def _map_basic_serializer(self, serializer, direction):
        """Fields a serializer names in ``Meta.optional_in_response`` may be
        left out of a response (``score_breakdown`` of a list row without
        ``?expand=explanation``): not required there."""
        schema = super()._map_basic_serializer(serializer, direction)
        optional = set(getattr(getattr(serializer, "Meta", None), "optional_in_response", ()))
        if optional and schema.get("required"):
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {
            "401": _json("Missing, invalid, expired or revoked credentials", _DETAIL),
            "403": _json("Not allowed: a viewer's or read-only token's write", _DETAIL),
            "429": _json("Throttled; see the Retry-After header", _DETAIL),
        }
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = _json(
                "Validation error (field messages), or a body that is not JSON or nests "
                "too deep (`detail`)",
                _BAD_REQUEST,
            )
            errors["415"] = _json("The body is not JSON (the API takes application/json)", _DETAIL)
        elif self.method == "GET" and self._is_list_view():
            errors["400"] = _json(
                "Invalid filter (a malformed or empty updated_since, a repeated filter) "
                "or a cursor this list did not hand out",
                _BAD_REQUEST,
            )
        else:
            errors["400"] = _json("A NUL character in the query string", _BAD_REQUEST)
        if self.path_regex and "{" in self.path:
            errors["404"] = _json("Not found (or in a workspace you are not a member of)", _DETAIL)
        if self.method in ("PUT", "PATCH", "DELETE"):
            errors["412"] = _json(
                "If-Match does not match the current version; nothing changed", _DETAIL
            )
        for code, body in errors.items():
            responses.setdefault(code, body)
        return responses
