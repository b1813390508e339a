"""What a refused sign-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``), and
the same throttle applied to failed API-token authentication.

Axes counts failed sign-ins per client address and per account at that
address (settings: ``AXES_*``). A refused attempt is never checked against
the password, and gets 429 with ``Retry-After`` and a page that says when to
try again."""

import math

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import Throttled

from pmhub.clientip import client_ip


def retry_after_seconds() -> int:
    """How long a refused client waits at most: the cool-off."""
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    seconds = retry_after_seconds()
    if request.path_info.startswith("/api/"):
        # The failed token attempt that reached the limit: the API's 429 body.
        response = JsonResponse(
            {
                "detail": f"Too many failed authentications from this address. "
                f"Expected available in {seconds} seconds."
            },
            status=429,
        )
        response["Retry-After"] = str(seconds)
        return response
    response = render(
        request,
        "registration/lockout.html",
        {"retry_minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


TOKEN_CREDENTIALS = {"username": None}
LOCKED_KEY = "accounts:locked-address:{}"


def remember_locked_address(sender, ip_address=None, **kwargs) -> None:
    """``axes.signals.user_locked_out`` receiver: note the locked address in
    the cache, so that API requests ask the database about a lockout only
    for addresses that have one (an API request pays one cache read, no
    query). Axes sends it again for every attempt while refused."""
    if ip_address:
        cache.set(LOCKED_KEY.format(ip_address), True, retry_after_seconds())


def check_token_throttle(request) -> None:
    """Refuse token authentication from an address that failed too often
    (429 with ``Retry-After``), before the token is even looked up, so a
    throttled address learns nothing about the tokens it tries."""
    if not cache.get(LOCKED_KEY.format(client_ip(request))):
        return
    if AxesProxyHandler.is_locked(request, TOKEN_CREDENTIALS):
        raise Throttled(
            wait=retry_after_seconds(),
            detail="Too many failed authentications from this address.",
        )


def record_token_failure(request, sender) -> None:
    """Count a failed token authentication as a failed sign-in of the address."""
    user_login_failed.send(sender=sender, credentials=TOKEN_CREDENTIALS, request=request)
