from django.apps import AppConfig

VERBS = {
    "question.asked": "a stakeholder confirmed a question asked on a shared roadmap",
    "question.plus_one": "a stakeholder confirmed a +1 on a shared roadmap's question",
    "question.answered": "a question from a shared roadmap was answered",
    "share_link.questions_changed": (
        "a share link started or stopped taking questions "
        "(or took over a replaced link's questions)"
    ),
}


class QuestionsConfig(AppConfig):
    name = "questions"

    def ready(self):
        from feedback.panels import register_feedback_panel
        from pmhub.activity.verbs import register_verbs
        from pmhub.navigation import register_product_tab
        from roadmaps.shared_blocks import register_shared_block

        from . import blocks

        register_verbs(VERBS)
        register_shared_block("page", "questions/_page_block.html", blocks.page_block)
        register_shared_block("entry", "questions/_entry_block.html", blocks.entry_block)
        register_feedback_panel("questions/_feedback_panel.html", blocks.feedback_panel)
        register_product_tab("questions", "Questions", "questions:manage", order=47)
