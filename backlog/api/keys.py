"""Items by key (``PAY-42``) wherever the API takes an item id."""

import re
from functools import reduce
from operator import or_

from django.db.models import Q

ITEM_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]*)-([0-9]{1,9})")


def key_filter(keys) -> Q:
    """Items whose key is one of ``keys`` (case-insensitive), through the
    (product, number) unique index rather than a scan of ``key``."""
    parts = [ITEM_KEY.fullmatch(k.strip()) for k in keys]
    return reduce(
        or_,
        (Q(product__key=m[1].upper(), number=int(m[2])) for m in parts if m),
        Q(pk__in=[]),
    )
