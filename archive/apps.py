from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from pmhub.activity import consumers
        from pmhub.activity.verbs import register_verbs

        from . import catalog, loading

        catalog.register_builtin_parts()
        register_verbs(
            {
                "workspace.exported": "an owner started an export of the workspace",
                "workspace.imported": "an archive was imported into this workspace",
            }
        )
        # Events copied in by an import are history, not news: no consumer
        # (webhooks, portal emails, the roadmap change log) acts on them again.
        consumers.register_skip(loading.imported_event_ids)
