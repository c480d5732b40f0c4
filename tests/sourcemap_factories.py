"""Small artifact bundles, source maps and chunk uploads for the tests."""

import gzip
import hashlib
import io
import json
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sentry.api.tokens import UPLOAD, ApiToken

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
DEBUG_ID = "4f3a1b2c-0d5e-4f60-8a7b-9c0d1e2f3a4b"
#: The original of MINIFIED, as a developer wrote it.
CART_JS = (
    "export function checkout(cart) {\n"
    "  return sumPrices(cart.items);\n"
    "}\n"
    "function sumPrices(items) {\n"
    '  throw new TypeError("cart is empty");\n'
    "}\n"
)
MINIFIED = (
    'function c(t){return s(t.items)}function s(e){throw new TypeError("cart is '
    'empty")}'
)
#: Column (1-based, as browsers count) of ``throw`` and of the call to s.
THROW_COLUMN = MINIFIED.index("throw") + 1
CALL_COLUMN = MINIFIED.index("s(t") + 1


def _vlq(number):
    number = (-number << 1) | 1 if number < 0 else number << 1
    out = ""
    while True:
        digit, number = number & 31, number >> 5
        out += _B64[digit | (32 if number else 0)]
        if not number:
            return out


def source_map(with_content=True):
    """Return the source map of MINIFIED (one line) to CART_JS, as bytes."""
    # (minified column, source, line, column[, name]), 0-based.
    segments = [
        (0, 0, 0, 0),
        (9, 0, 0, 16, 0),
        (14, 0, 1, 2),
        (21, 0, 1, 9, 1),
        (32, 0, 3, 0),
        (41, 0, 3, 9, 1),
        (46, 0, 4, 2),
    ]
    previous, encoded = [0] * 5, []
    for segment in segments:
        parts = []
        for index, value in enumerate(segment):
            parts.append(_vlq(value - previous[index]))
            previous[index] = value
        encoded.append("".join(parts))
    data = {
        "version": 3,
        "sources": ["../src/cart.js"],
        "names": ["checkout", "sumPrices"],
        "mappings": ",".join(encoded),
    }
    if with_content:
        data["sourcesContent"] = [CART_JS]
    return json.dumps(data).encode()


def bundle(files=None, manifest=None, release="shop@1.0", debug_id=DEBUG_ID):
    """
    Return a zip like sentry-cli's: ``files`` maps a member name to
    ``(url, type, headers, bytes)``; the default is MINIFIED and its map.
    """
    if files is None:
        files = {
            "_/_/app.min.js": (
                "~/app.min.js",
                "minified_source",
                {"debug-id": debug_id, "Sourcemap": "app.min.js.map"},
                MINIFIED.encode(),
            ),
            "_/_/app.min.js.map": (
                "~/app.min.js.map",
                "source_map",
                {"debug-id": debug_id},
                source_map(),
            ),
        }
    if manifest is None:
        manifest = {
            "org": "django-sentry",
            "release": release,
            "files": {
                name: {"url": url, "type": kind, "headers": headers}
                for name, (url, kind, headers, _) in files.items()
            },
        }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, (_, _, _, data) in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def upload_token(user):
    return ApiToken.objects.create_token(user, scopes=(UPLOAD,))[1]


def chunk_url(org="django-sentry"):
    return reverse("sentry-upload:chunk-upload", kwargs={"org": org})


def assemble_url(org="django-sentry"):
    return reverse("sentry-upload:artifactbundle-assemble", kwargs={"org": org})


def post_chunks(client, token, chunks, gzipped=True, names=None):
    """POST chunks as sentry-cli does: gzip, each named by its SHA-1."""
    field = "file_gzip" if gzipped else "file"
    files = [
        SimpleUploadedFile(
            (names or {}).get(index, sha1(data)),
            gzip.compress(data) if gzipped else data,
        )
        for index, data in enumerate(chunks)
    ]
    return client.post(
        chunk_url(), {field: files}, headers={"Authorization": f"Bearer {token}"}
    )


def assemble(client, token, data, chunks=None, **fields):
    body = {
        "checksum": sha1(data),
        "chunks": chunks if chunks is not None else [sha1(data)],
        "projects": ["42"],
        "version": "shop@1.0",
        **fields,
    }
    return client.post(
        assemble_url(),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def upload(client, token, data):
    """Upload and assemble a bundle in one chunk; return the answer."""
    post_chunks(client, token, [data])
    return assemble(client, token, data)
