"""JSON answers of the dashboard."""

import json

from django.http import HttpResponse

#: As Django's ``json_script``: event text in JSON can never close a tag,
#: even in a browser that ignores the content type.
_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_response(data, status=200):
    """Return ``data`` as JSON with ``<``, ``>`` and ``&`` escaped."""
    body = json.dumps(data, ensure_ascii=False).translate(_ESCAPES)
    return HttpResponse(body, status=status, content_type="application/json")
