"""What a Django request contributes to an event."""

from ..scrubbing import parse_body
from ..utils.shaping import to_text

#: WSGI variables worth keeping; the rest is server noise or secrets.
ENV_KEYS = ("REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT")


def _call(func, default=None):
    try:
        return func()
    except Exception:
        return default


def _multi(querydict):
    """Return a QueryDict as a dict, lists only where a key repeats."""
    result = {}
    for key in querydict:
        values = querydict.getlist(key)
        result[key] = values[0] if len(values) == 1 else values
    return result


def get_request_url(request):
    url = _call(request.build_absolute_uri)
    if url is None:
        # A disallowed Host header must not stop the capture.
        url = _call(request.get_full_path, "")
    return url


def get_request_data(request):
    """Return the request as a Sentry-style ``request`` dict of builtins."""
    data = {
        "url": get_request_url(request),
        "method": _call(lambda: request.method),
        "query_string": _call(lambda: request.META.get("QUERY_STRING", ""), ""),
        "GET": _call(lambda: _multi(request.GET), {}),
        "headers": _call(lambda: dict(request.headers), {}),
        "cookies": _call(lambda: dict(request.COOKIES), {}),
        "env": _call(
            lambda: {k: request.META[k] for k in ENV_KEYS if k in request.META}, {}
        ),
    }
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        data["POST"] = _call(lambda: _multi(request.POST), {})
        if not data["POST"]:
            body = _read_body(request)
            if body is not None:
                data["data"] = body
    return data


def _read_body(request):
    # The body may have been read as a stream already, or be huge; only use
    # what Django keeps in memory.
    body = getattr(request, "_body", None)
    if body is None:
        return None
    # Parsed when it is JSON or a form, so that it is scrubbed by key
    # ("password": ...), never kept as one text with its secrets.
    content_type = _call(lambda: request.content_type, "") or ""
    return parse_body(to_text(body[:65536]), content_type)


def get_user_data(request):
    """Return the authenticated user as a dict, or None."""
    user = getattr(request, "_cached_user", None)
    if user is None:
        user = _call(lambda: getattr(request, "user", None))
    if user is None or not _call(lambda: user.is_authenticated, False):
        return None
    return {
        "id": _call(lambda: to_text(user.pk)),
        "username": _call(lambda: to_text(user.get_username())),
        "email": _call(lambda: to_text(getattr(user, "email", "") or "")),
    }


def get_view_name(request):
    """Return the dotted path of the view that served ``request``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        from django.urls import resolve

        match = _call(lambda: resolve(request.path_info))
    return getattr(match, "_func_path", "") or ""
