"""The event log (``docs/activity.md``): every service write records what
changed, in the same transaction as the change.

    from pmhub.activity import record, record_many, acting_as
"""

from .actors import acting_as, current_actor, set_actor
from .recording import diff, json_safe, noun_of, record, record_many, values_of

__all__ = [
    "acting_as",
    "current_actor",
    "diff",
    "json_safe",
    "noun_of",
    "record",
    "record_many",
    "set_actor",
    "values_of",
]
