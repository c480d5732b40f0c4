"""Who is asking: a staff session or an API token."""

from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from ..conf import settings
from ..views.access import can_change, can_view
from .tokens import EVENT_READ, EVENT_WRITE, ApiToken


def token_from_request(request):
    """Return the token of ``Authorization: Bearer <token>`` (or ``Token``)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


def error(status, detail):
    return JsonResponse({"detail": detail}, status=status)


def api_view(methods=("GET",), write=False):
    """
    Guard a JSON API view.

    A token authenticates as its user and needs no CSRF token (a browser
    never sends it on its own); a session must pass Django's CSRF check for
    anything but a read. Reads need the dashboard's view access (or
    ``SENTRY_PUBLIC``), writes staff or the change permission; a token also
    needs the ``event:read`` scope to read, ``event:write`` to write. An
    unknown, expired or deactivated user's token is answered alike (401).
    """

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            token = token_from_request(request)
            if token is not None:
                row = ApiToken.objects.get_valid(token)
                if row is None:
                    return error(401, "Invalid or inactive API token.")
                scope = EVENT_WRITE if write else EVENT_READ
                if not row.allows(scope):
                    return error(403, f"This API token lacks the {scope} scope.")
                row.touch()
                user = request.user = row.user
            else:
                # Set on the request: the views narrow results to its projects.
                user = request.user = getattr(request, "user", None) or AnonymousUser()
                if write and not _csrf_ok(request):
                    return error(403, "CSRF check failed.")
            allowed = can_change(user) if write else (settings.PUBLIC or can_view(user))
            if not allowed:
                if not user.is_authenticated:
                    return error(
                        401, "Authentication required: a session or an API token."
                    )
                return error(403, "You may not do this.")
            try:
                return view(request, *args, **kwargs)
            except Http404:
                return error(404, "Not found.")

        return wrapper

    return decorator


def _csrf_ok(request):
    check = CsrfViewMiddleware(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None
