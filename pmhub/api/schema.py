from drf_spectacular.openapi import AutoSchema

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


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class PMHubAutoSchema(AutoSchema):
    """Documents the error responses every endpoint can give, so the schema
    tells the truth (drf-spectacular lists only the success response)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {
            "401": _json("Missing, invalid, expired or revoked credentials", _DETAIL),
            "403": _json("Not allowed: a viewer's or read-only token's write", _DETAIL),
            "429": _json("Throttled; see the Retry-After header", _DETAIL),
        }
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = _json("Validation error", _FIELD_ERRORS)
        if self.method == "GET" and self._is_list_view():
            errors["400"] = _json("Invalid filter, e.g. a malformed updated_since", _FIELD_ERRORS)
            errors["404"] = _json("Invalid pagination cursor", _DETAIL)
        if self.path_regex and "{" in self.path:
            errors["404"] = _json("Not found (or in a workspace you are not a member of)", _DETAIL)
        if self.method in ("PUT", "PATCH", "DELETE"):
            errors["412"] = _json(
                "If-Match does not match the current version; nothing changed", _DETAIL
            )
        for code, body in errors.items():
            responses.setdefault(code, body)
        return responses
