"""The one place that decides who may see the dashboard."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from ..conf import settings


def can_view(user):
    """Return whether ``user`` may read the dashboard."""
    if not user.is_active:
        return False
    return user.is_staff or user.has_perm("sentry.view_groupedmessage")


def login_required(view, *, public_ok=True):
    """Guard a dashboard view: staff (or the view permission) only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if public_ok and settings.PUBLIC:
            return view(request, *args, **kwargs)
        user = request.user
        if not user.is_authenticated:
            from django.urls import reverse

            return redirect_to_login(request.get_full_path(), reverse("sentry:login"))
        if not can_view(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Guard a view that changes state: never opened by ``SENTRY_PUBLIC``."""
    return login_required(view, public_ok=False)
