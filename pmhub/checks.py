"""Deployment checks of PMHub's own settings (run by `manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    """Emails (portal notifications, unsubscribe links) are sent by Celery
    workers, which have no request to take the host from: without SITE_URL
    their links would be relative and unusable."""
    if settings.SITE_URL:
        return []
    return [
        Warning(
            "SITE_URL is not set: links in emails sent by background tasks would be relative.",
            hint="Set SITE_URL to the public base URL, e.g. https://pmhub.example.com",
            id="pmhub.W001",
        )
    ]
