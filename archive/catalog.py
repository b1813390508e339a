"""The parts of PMHub's own apps, in load order (see ``archive.parts``)."""

import secrets

from pmhub.accounts.models import hash_token
from pmhub.webhooks.signing import new_secret

from .collab_parts import discussion_parts, notification_parts, question_parts, spec_parts
from .parts import Part, register_part, through

P = "product__workspace"


def _events(qs, workspace):
    # The import's own event is about this server's copy, not the workspace's history.
    return qs.exclude(verb__in=("workspace.imported",))


def _dump_event(row, ctx):
    # object_id and parent_id name a row of the table their *_type names.
    row["object_id"] = ctx.archive_id(row["object_type"], row["object_id"])
    row["parent_id"] = ctx.archive_id(row["parent_type"], row["parent_id"])
    return row


def _load_event(row, ctx):
    row["object_id"] = ctx.new_id(row["object_type"], row["object_id"], missing_ok=True)
    row["parent_id"] = ctx.new_id(row["parent_type"], row["parent_id"], missing_ok=True)
    return row


def _fresh_share_token():
    return hash_token(secrets.token_urlsafe(32))


def register_builtin_parts() -> None:
    parts = [
        Part("members", "accounts.membership", "workspace"),
        # products/
        Part("products", "products.product", "workspace"),
        Part("visions", "products.vision", P),
        Part("vision_versions", "products.visionversion", "vision__product__workspace"),
        Part("objectives", "products.objective", P),
        Part("key_results", "products.keyresult", "objective__product__workspace"),
        Part("competitors", "products.competitor", P),
        Part("personas", "products.persona", P),
        # metrics/
        Part("metrics", "metrics.metric", P),
        Part("datapoints", "metrics.datapoint", "metric__product__workspace"),
        Part("metric_rollups", "metrics.metricrollup", "metric__product__workspace"),
        Part("metric_dirty_days", "metrics.dirtyday", "metric__product__workspace"),
        Part("key_result_links", "metrics.keyresultlink", "metric__product__workspace"),
        Part("chart_markers", "metrics.chartmarker", "metric__product__workspace"),
        # backlog/
        Part("scoring_models", "backlog.scoringmodel", P),
        Part("backlog_settings", "backlog.backlogsettings", P),
        Part("tags", "backlog.tag", P),
        Part("custom_fields", "backlog.customfield", P),
        Part("items", "backlog.item", P),
        Part("item_tags", through("backlog.item", "tags"), "item__product__workspace"),
        Part("item_objectives", through("backlog.item", "objectives"), "item__product__workspace"),
        Part("score_changes", "backlog.scorechange", "item__product__workspace"),
        Part("saved_views", "backlog.savedview", P),
        Part("hypotheses", "backlog.hypothesis", "item__product__workspace"),
        # specs/
        *spec_parts(),
        # roadmaps/
        Part("roadmaps", "roadmaps.roadmap", "workspace"),
        Part("roadmap_products", through("roadmaps.roadmap", "products"), "roadmap__workspace"),
        Part("lanes", "roadmaps.lane", "roadmap__workspace"),
        Part("entries", "roadmaps.entry", "roadmap__workspace"),
        Part("milestones", "roadmaps.milestone", "roadmap__workspace"),
        Part("dependencies", "roadmaps.dependency", "roadmap__workspace"),
        Part("roadmap_changes", "roadmaps.change", "roadmap__workspace"),
        Part(
            "share_links",
            "roadmaps.sharelink",
            "roadmap__workspace",
            exclude=("token_hash", "password", "views", "last_viewed_at"),
            fresh={"token_hash": _fresh_share_token},
        ),
        # feedback/
        Part("companies", "feedback.company", "workspace"),
        Part("people", "feedback.person", "workspace"),
        Part("feedback", "feedback.feedback", P),
        Part("insights", "feedback.insight", "feedback__product__workspace"),
        Part("demand_queue", "feedback.demandqueue", "item__product__workspace"),
        Part("portal_settings", "feedback.portalsettings", P),
        Part("public_ideas", "feedback.publicidea", P),
        Part("votes", "feedback.vote", "idea__product__workspace"),
        Part("subscriptions", "feedback.subscription", P),
        # questions/ (share links, entries, feedback), discussions/ (any of the above)
        *question_parts(),
        *discussion_parts(),
        # pmhub/webhooks, pmhub/activity
        Part(
            "webhook_endpoints",
            "webhooks.webhookendpoint",
            "workspace",
            exclude=("secret", "previous_secret", "previous_secret_expires_at"),
            fresh={"secret": new_secret},
        ),
        Part(
            "events",
            "activity.event",
            "workspace",
            exclude=("actor_token", "txid"),
            rows=_events,
            dump=_dump_event,
            load=_load_event,
        ),
        *notification_parts(),  # they name events
    ]
    for part in parts:
        register_part(part)
