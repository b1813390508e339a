from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "pmhub.activity"
    label = "activity"
    verbose_name = "Activity (event log)"
    default_auto_field = "django.db.models.BigAutoField"
