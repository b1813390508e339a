from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "discussions"

    def ready(self):
        from backlog.panels import register_item_panel
        from pmhub.activity import consumers
        from pmhub.activity.verbs import register_verbs

        from . import kinds, registry, types
        from .views import panel

        types.register_builtin_types()
        register_verbs(VERBS)
        register_item_panel(
            "discussions/_panel.html",
            lambda request, item: panel.panel_context(request, "backlog.item", item),
            order=90,
        )
        # Every verb: rules added later (kinds.add_rule) need no new registration.
        consumers.register("notifications", kinds.notify_consumer)
        registry.attach_panels()


VERBS = {
    "comment.created": "someone commented (or replied) on an object",
    "comment.edited": "a comment was edited (the old text is in changes)",
    "comment.deleted": "a comment was deleted",
    "reaction.added": "an emoji reaction was added to a comment",
    "reaction.removed": "an emoji reaction was taken back",
    "watch.changed": "someone started or stopped watching an object",
    "discussion_settings.updated": "a workspace's discussion settings changed",
}
