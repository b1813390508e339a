"""What every members' page of feedback/ puts in its context."""


def page_context(request, product, section: str = "feedback") -> dict:
    """The workspace, the product, whether the user may edit, and the
    product tab to highlight."""
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": section,
    }
