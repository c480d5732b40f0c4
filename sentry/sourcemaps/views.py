"""
The endpoints ``sentry-cli sourcemaps upload`` speaks, for ``upload`` tokens.

``sentry-cli`` first asks the chunk-upload endpoint how to upload (chunk
size, how many per request, compression), then asks to assemble the bundle
from the SHA-1s of its chunks; the answer names the chunks the server lacks,
which it uploads (gzip-compressed, each named by its SHA-1) before asking
again. Only API tokens with the ``upload`` scope of a user who may change the
dashboard get in (no session, no other scope); every refusal is a JSON body
with a ``detail``.
"""

import datetime as dt
import hashlib
import json
import re
import zlib
from functools import wraps

from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ..api.auth import token_from_request
from ..api.tokens import UPLOAD, ApiToken
from ..conf import settings
from ..views.access import can_change
from .bundles import BundleError, join_chunks, spool, store_bundle
from .models import ArtifactBundle, UploadChunk

_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
#: Largest assemble request: a list of chunk checksums and a few names.
MAX_ASSEMBLE_BODY = 256 * 1024
#: Room for the multipart framing around a request's chunks.
MULTIPART_SLACK = 64 * 1024
#: What ``sentry-cli`` may upload here: artifact bundles, nothing else.
ACCEPT = ("artifact_bundles",)


def error(status, detail, **extra):
    return JsonResponse({"detail": detail, **extra}, status=status)


def upload_view(methods):
    """Let only ``upload`` tokens of users who may change the dashboard in."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            token = token_from_request(request)
            if token is None:
                return error(401, "An API token with the upload scope is required.")
            row = ApiToken.objects.get_valid(token)
            if row is None:
                return error(401, "Invalid or inactive API token.")
            if not row.allows(UPLOAD):
                return error(403, f"This API token lacks the {UPLOAD} scope.")
            if not can_change(row.user):
                return error(403, "The token's user may not change the dashboard.")
            row.touch()
            # As the API does: the views act for the token's user.
            request.user = row.user
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def max_request_size():
    return (
        settings.SOURCEMAP_CHUNK_SIZE * settings.SOURCEMAP_CHUNKS_PER_REQUEST
        + MULTIPART_SLACK
    )


@upload_view(methods=("GET", "POST"))
def chunk_upload(request, org):
    """Tell sentry-cli how to upload (GET); take chunks (POST)."""
    if request.method == "GET":
        return JsonResponse(
            {
                "url": request.build_absolute_uri(request.path),
                "chunkSize": settings.SOURCEMAP_CHUNK_SIZE,
                "chunksPerRequest": settings.SOURCEMAP_CHUNKS_PER_REQUEST,
                "maxFileSize": settings.SOURCEMAP_MAX_BUNDLE_SIZE,
                "maxRequestSize": max_request_size(),
                "concurrency": 1,
                "hashAlgorithm": "sha1",
                "compression": ["gzip"],
                "accept": list(ACCEPT),
            }
        )
    length = request.META.get("CONTENT_LENGTH")
    if not length:
        return error(411, "A Content-Length is required.")
    try:
        length = int(length)
    except ValueError:
        return error(400, "Malformed Content-Length.")
    if length > max_request_size():
        return error(413, f"The request is larger than {max_request_size()} bytes.")
    if request.content_type != "multipart/form-data":
        return error(415, "Chunks come as multipart/form-data.")
    try:
        uploaded = request.FILES
    except (MultiPartParserError, SuspiciousOperation) as exc:
        # Too many parts (DATA_UPLOAD_MAX_NUMBER_FILES), or a broken body.
        return error(400, f"Malformed multipart body: {exc}")
    files = [(item, False) for item in uploaded.getlist("file")]
    files += [(item, True) for item in uploaded.getlist("file_gzip")]
    if not files:
        return error(400, "No chunks: send them as file or file_gzip fields.")
    if len(files) > settings.SOURCEMAP_CHUNKS_PER_REQUEST:
        return error(
            400, f"More than {settings.SOURCEMAP_CHUNKS_PER_REQUEST} chunks at once."
        )
    chunks = {}
    for item, gzipped in files:
        checksum = (item.name or "").lower()
        if not _SHA1_RE.match(checksum):
            return error(400, "Each chunk is named by the SHA-1 of its bytes.")
        try:
            data = _read_chunk(item, gzipped)
        except ValueError as exc:
            return error(400, f"Chunk {checksum}: {exc}")
        if data is None:
            return error(
                413,
                f"Chunk {checksum} is larger than {settings.SOURCEMAP_CHUNK_SIZE} "
                "bytes (SENTRY_SOURCEMAP_CHUNK_SIZE).",
            )
        actual = hashlib.sha1(data).hexdigest()
        if actual != checksum:
            return error(400, f"Chunk {checksum}: its bytes have SHA-1 {actual}.")
        chunks[checksum] = data
    # Chunks of uploads never assembled would hold the cap for good.
    stale = timezone.now() - dt.timedelta(seconds=settings.SOURCEMAP_CHUNK_TTL)
    UploadChunk.objects.filter(created__lt=stale).delete()
    pending = UploadChunk.objects.aggregate(size=Sum("size"))["size"] or 0
    incoming = sum(len(data) for data in chunks.values())
    if pending + incoming > settings.SOURCEMAP_MAX_PENDING_SIZE:
        return error(
            413,
            "Too many chunks waiting to be assembled "
            "(SENTRY_SOURCEMAP_MAX_PENDING_SIZE); assemble or try later.",
        )
    known = set(
        UploadChunk.objects.filter(checksum__in=chunks).values_list(
            "checksum", flat=True
        )
    )
    for checksum, data in chunks.items():
        if checksum in known:
            continue
        try:
            with transaction.atomic(using=UploadChunk.objects.db):
                UploadChunk.objects.create(checksum=checksum, data=data, size=len(data))
        except IntegrityError:
            # Uploaded by a concurrent request meanwhile: the same bytes.
            pass
    return JsonResponse({})


def _read_chunk(item, gzipped):
    """Return a chunk's bytes (None: over the chunk size); inflate gzip ones."""
    limit = settings.SOURCEMAP_CHUNK_SIZE
    if not gzipped:
        data = item.read(limit + 1)
        return None if len(data) > limit else data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts, size = [], 0
    try:
        for block in item.chunks(64 * 1024):
            data = inflater.decompress(block, limit + 1 - size)
            while True:
                size += len(data)
                parts.append(data)
                if size > limit:
                    return None
                if not inflater.unconsumed_tail:
                    break
                data = inflater.decompress(inflater.unconsumed_tail, limit + 1 - size)
            if inflater.eof:
                break
    except zlib.error as exc:
        raise ValueError(f"not valid gzip ({exc}).") from None
    if not inflater.eof:
        raise ValueError("the gzip stream is cut short.")
    return b"".join(parts)


@upload_view(methods=("POST",))
def assemble(request, org):
    """Assemble an artifact bundle from uploaded chunks, or name those missing."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_ASSEMBLE_BODY:
        return error(413, f"The request is larger than {MAX_ASSEMBLE_BODY} bytes.")
    try:
        body = json.loads(request.read(MAX_ASSEMBLE_BODY + 1))
    except RecursionError:
        return error(400, "The body is nested too deeply.")
    except ValueError:
        return error(400, "The body is not JSON.")
    if not isinstance(body, dict):
        return error(400, "The body is not a JSON object.")
    checksum = body.get("checksum")
    chunks = body.get("chunks")
    if not isinstance(checksum, str) or not _SHA1_RE.match(checksum):
        return error(400, "checksum: the SHA-1 of the bundle is required.")
    max_chunks = -(-settings.SOURCEMAP_MAX_BUNDLE_SIZE // settings.SOURCEMAP_CHUNK_SIZE)
    if (
        not isinstance(chunks, list)
        or not all(isinstance(c, str) and _SHA1_RE.match(c) for c in chunks)
        or not chunks
    ):
        return error(400, "chunks: a list of the SHA-1s of the bundle's chunks.")
    if len(chunks) > max_chunks:
        return error(
            413,
            f"More than {max_chunks} chunks: the bundle would be larger than "
            f"{settings.SOURCEMAP_MAX_BUNDLE_SIZE} bytes "
            "(SENTRY_SOURCEMAP_MAX_BUNDLE_SIZE).",
        )
    project, problem = _project(body.get("projects"), request.user)
    if problem:
        return error(400, problem)
    if ArtifactBundle.objects.filter(checksum=checksum).exists():
        return JsonResponse({"state": "ok", "missingChunks": [], "detail": None})
    known = set(
        UploadChunk.objects.filter(checksum__in=set(chunks)).values_list(
            "checksum", flat=True
        )
    )
    missing = sorted(set(chunks) - known)
    if missing:
        return JsonResponse({"state": "not_found", "missingChunks": missing})
    # Assembled bundles stay until deleted: without a cap, a leaked token
    # fills the disk one bundle at a time.
    limit = settings.SOURCEMAP_MAX_STORED_SIZE
    stored = ArtifactBundle.objects.aggregate(size=Sum("size"))["size"] or 0
    incoming = UploadChunk.objects.filter(checksum__in=set(chunks)).aggregate(
        size=Sum("size")
    )["size"]
    if stored + (incoming or 0) > limit:
        return error(
            413,
            f"Stored bundles would take more than {limit} bytes "
            "(SENTRY_SOURCEMAP_MAX_STORED_SIZE): delete old ones in the admin.",
            state="error",
            missingChunks=[],
        )
    release = body.get("version")
    dist = body.get("dist")
    try:
        with spool() as fileobj:
            join_chunks(checksum, chunks, fileobj)
            store_bundle(
                fileobj,
                checksum,
                project=project,
                release=release if isinstance(release, str) else "",
                dist=dist if isinstance(dist, str) else "",
            )
    except BundleError as exc:
        return error(400, str(exc), state="error", missingChunks=[])
    except IntegrityError:
        # Assembled by a concurrent request meanwhile.
        pass
    UploadChunk.objects.filter(checksum__in=set(chunks)).delete()
    return JsonResponse({"state": "ok", "missingChunks": [], "detail": None})


def _project(projects, user):
    """
    Return ``(project ids, problem)`` for the assemble request's ``projects``.

    ``--project`` takes a project's id (the number at the end of its DSNs) or
    its slug, of a project the token's user may see; the bundle records the
    ids.
    """
    from ..projects import lookup_project_id, visible_projects

    if projects is None or projects == []:
        return "", None
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
        return "", "projects: a list of project ids or slugs."
    if len(projects) > 20:
        return "", "projects: at most 20."
    ids = []
    for name in projects:
        found = None
        if name and len(name) <= 64 and name.isascii() and name.isprintable():
            try:
                found = lookup_project_id(name)
            except ValueError:
                found = None
        if found is not None and not visible_projects(user).filter(pk=found).exists():
            # Said as of a project that does not exist: nothing is revealed.
            found = None
        if found is None:
            return "", (
                f"Unknown project {name[:64]!r}: --project takes a project's id "
                "(the number at the end of its DSNs) or its slug."
            )
        ids.append(str(found))
    joined = ",".join(ids)
    if len(joined) > ArtifactBundle._meta.get_field("project").max_length:
        # Cut to the column, the last id would name another project.
        return "", (
            "projects: too many to record (64 characters of ids joined by commas)."
        )
    return joined, None
