from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from pmhub.errors import DomainError, VersionConflict


def exception_handler(exc, context):
    """Map service errors to HTTP: ValidationError → 400 with field messages,
    VersionConflict → 412, other DomainErrors → their status (409 by default)."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            if "__all__" in data:
                data["non_field_errors"] = data.pop("__all__")
        else:
            data = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, VersionConflict):
        data = {"detail": exc.message}
        if exc.current is not None:
            data["current_version"] = exc.current.version
        response = Response(data, status=status.HTTP_412_PRECONDITION_FAILED)
        if exc.current is not None:
            response["ETag"] = exc.current.etag
        return response
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)
