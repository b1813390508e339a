"""The archive's format: names, versions and the encoding of values."""

import base64
import datetime
import decimal
import functools
import json
import tomllib
import uuid

from django.conf import settings
from django.utils.duration import duration_string

FORMAT = "pmhub-workspace-archive"
SCHEMA_VERSION = 2  # 2: discussions, specs, questions; no item_history part
MANIFEST = "manifest.json"
USERS = "users"


class ArchiveError(Exception):
    """An archive this server cannot import; the message says why, for people."""


@functools.cache
def pmhub_version() -> str:
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _encode(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot write {type(value).__name__} to an archive")


def dumps(row: dict) -> bytes:
    return (
        json.dumps(row, default=_encode, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode()
