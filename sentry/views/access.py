"""
The one place that decides who may see the dashboard.

Every dashboard view is wrapped by :func:`dashboard_view`: it refuses
anonymous and non-staff users (a login redirect or a 403 page for pages, a
403 JSON body for JSON endpoints), lets ``SENTRY_PUBLIC`` open the read-only
views, and adds the security headers every dashboard response carries.
"""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth.views import redirect_to_login
from django.template.response import TemplateResponse
from django.urls import reverse

from ..conf import settings
from .responses import json_response


def can_view(user):
    """Return whether ``user`` may read the dashboard."""
    if not user.is_active:
        return False
    return user.is_staff or user.has_perm("sentry.view_groupedmessage")


def can_change(user):
    """Return whether ``user`` may resolve and unresolve errors."""
    # SENTRY_PUBLIC never grants changes.
    return (
        user.is_authenticated
        and can_view(user)
        and (user.is_staff or user.has_perm("sentry.change_groupedmessage"))
    )


def can_see_keys(user):
    """Return whether ``user`` may read the client keys and their DSNs."""
    # Never SENTRY_PUBLIC: a DSN lets whoever holds it send events.
    return user.is_authenticated and can_view(user)


def can_add_keys(user):
    """Return whether ``user`` may create client keys."""
    return can_see_keys(user) and user.has_perm("sentry.add_projectkey")


def can_change_keys(user):
    """Return whether ``user`` may rename, disable, enable and rotate client keys."""
    return can_see_keys(user) and user.has_perm("sentry.change_projectkey")


def can_add_projects(user):
    """Return whether ``user`` may create projects."""
    return can_see_keys(user) and user.has_perm("sentry.add_project")


def can_change_projects(user):
    """Return whether ``user`` may open and save a project's settings."""
    return can_see_keys(user) and user.has_perm("sentry.change_project")


def wants_json(request):
    """Return whether the caller asked for JSON (the dashboard's scripts do)."""
    return "application/json" in request.headers.get("Accept", "")


def refuse(request, *, json, reason=""):
    """Return the answer to a request the user may not make."""
    if json:
        # Scripts cannot follow a login redirect usefully: say it plainly.
        return json_response({"error": "forbidden"}, status=403)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("sentry:login"))
    return TemplateResponse(request, "sentry/403.html", {"reason": reason}, status=403)


def dashboard_view(view=None, *, public=True, json=False, allow=None, reason=""):
    """
    Guard a dashboard view and add the dashboard's security headers.

    ``public=False`` marks views that change state: ``SENTRY_PUBLIC`` never
    opens them. ``json=True`` marks JSON endpoints: they answer a refusal
    with a 403 JSON body instead of a login redirect (so do other views when
    the request asks for JSON). ``allow``, a function of the user, replaces
    the usual check (``SENTRY_PUBLIC`` included); ``reason`` is what the 403
    page then says.
    """
    if view is None:
        return lambda view: dashboard_view(
            view, public=public, json=json, allow=allow, reason=reason
        )

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # Load the user here, even when the page is public: the templates
        # show who is logged in and must not be the ones to query for it.
        authenticated = request.user.is_authenticated
        if allow is not None:
            allowed = allow(request.user)
        elif public and settings.PUBLIC:
            allowed = True
        elif public:
            allowed = authenticated and can_view(request.user)
        else:
            allowed = can_change(request.user)
        if allowed:
            response = view(request, *args, **kwargs)
        else:
            response = refuse(request, json=json or wants_json(request), reason=reason)
        return add_security_headers(response)

    return wrapper


def add_security_headers(response):
    """Set the dashboard's security headers, keeping any the host set."""
    for name, value in security_headers().items():
        if name not in response:
            response[name] = value
    return response


def security_headers():
    """Return the headers of a dashboard response (no inline script or style)."""
    static = _static_origin()
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self'{static}",
            f"style-src 'self'{static}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def _static_origin():
    # Static files served from another origin (a CDN) must stay loadable.
    parts = urlsplit(str(django_settings.STATIC_URL or ""))
    if parts.scheme in ("http", "https") and parts.netloc:
        return f" {parts.scheme}://{parts.netloc}"
    return ""
