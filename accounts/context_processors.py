from django.http import HttpRequest


def membership(request: HttpRequest) -> dict[str, object]:
    """What the navigation needs to know about the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_edit_content": False, "can_manage_account": False}
    return {
        "can_edit_content": user.can_edit_content,
        "can_manage_account": user.can_manage_account,
    }
