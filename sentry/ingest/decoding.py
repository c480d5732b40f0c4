"""
Bodies: read under a cap, undo ``Content-Encoding`` under a cap, parse JSON.

The raw body is read from the request stream, never through
``request.body`` (which refuses bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
with a 400 of its own). Every decoder inflates incrementally with a limit on
its output, so a decompression bomb costs at most the limit: 413.

Decoding is linear in its output whatever the layout of the compressed data:
the input is fed in slices (what a decompressor leaves over is never more
than a slice), a gzip body may hold at most :data:`MAX_GZIP_MEMBERS` members,
and one layer of encoding is undone, never more (see :func:`content_codings`).
"""

import base64
import binascii
import json
import re
import sys
import zlib

from .responses import (
    BadRequest,
    IngestError,
    LengthRequired,
    TooLarge,
    UnsupportedEncoding,
)

try:  # Optional: without it, br bodies are answered 415.
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    try:
        import brotlicffi as brotli
    except ImportError:
        brotli = None

CHUNK_SIZE = 64 * 1024
#: Compressed input is handed to zlib in slices of this size: what it leaves
#: over at the end of a gzip member (``unused_data``, a copy) is at most one
#: slice, never the rest of the body.
INPUT_STEP = 16 * 1024
#: Members in one gzip body, at most. RFC 1952 lets members follow one
#: another, and concatenated files are legal; no SDK sends more than one.
#: Each member costs a decompressor of its own, and an empty member is 20
#: bytes of work without output: thousands of them are an attack, not a body.
MAX_GZIP_MEMBERS = 16
#: Bytes decoded, at most, to find the first line of a body (the envelope
#: header) when only that line names the key; a longer line is refused.
HEAD_LIMIT = 64 * 1024

# The first byte that is not NUL: zero bytes may pad a gzip file (Python's
# gzip module allows them). One character class: one pass, no backtracking.
_NOT_NUL_RE = re.compile(rb"[^\0]")


def whole_number(value, max_digits):
    """
    Return ``value`` (text) as an int if it is ASCII digits, else None.

    ``str.isdigit()`` alone is true of ``"²"`` and ``int()`` takes other
    scripts' digits and underscores; and a number of thousands of digits is
    slow to convert and overflows a float. Client text is held to plain
    ASCII digits, at most ``max_digits`` of them.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (0 < len(value) <= max_digits and value.isascii() and value.isdigit()):
        return None
    return int(value)


def read_body(request, limit):
    """
    Return the raw request body; :class:`TooLarge` beyond ``limit`` bytes.

    A body without ``Content-Length`` (``Transfer-Encoding: chunked``, as
    ``@sentry/node`` sends every envelope) is read from the stream the server
    hands over (see :func:`body_stream`), under the same limit.
    """
    length = whole_number(request.META.get("CONTENT_LENGTH"), 20)
    if length is not None and length > limit:
        raise TooLarge(f"request body over {limit} bytes")
    stream = body_stream(request)
    chunks = []
    size = 0
    while True:
        # Never more than the limit plus one byte, to tell it is passed.
        chunk = _read(stream, min(CHUNK_SIZE, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _read(stream, size):
    """
    Return the next bytes of a body; :class:`BadRequest` if the server says
    the sender broke its framing.
    """
    try:
        return stream.read(size)
    except IngestError:
        raise
    except Exception as exc:
        # Each server raises errors of its own for a chunked body it cannot
        # parse (gunicorn: InvalidChunkSize, ChunkMissingTerminator, a
        # trailer over its header limits...), and Django UnreadablePostError
        # for a body cut short: the sender's fault, never a 500.
        raise BadRequest(
            "the request body cannot be read (broken chunked framing, or cut short)",
            # The server's text may quote the sender's bytes: a few of them.
            causes=[f"{type(exc).__name__}: {str(exc)[:200]}"],
        ) from None


def body_stream(request):
    """
    Return what to read the body from: the request, or the server's stream.

    Django's WSGIRequest reads at most ``CONTENT_LENGTH`` bytes (none when it
    is absent) from ``wsgi.input``. A chunked body has no length: servers that
    decode it say so with ``wsgi.input_terminated`` (a PEP 3333 extension;
    gunicorn and granian set it), and then ``wsgi.input`` ends where the body
    ends. uWSGI hands the chunks over through its own API instead, when run
    with ``--http-chunked-input``. A server that does neither (``runserver``,
    wsgiref) would hand over nothing: :class:`LengthRequired`, never a
    misleading 400. Under ASGI the handler has already read the whole body:
    the request is the stream.
    """
    environ = getattr(request, "environ", {})
    if request.META.get("CONTENT_LENGTH") or "wsgi.input" not in environ:
        return request
    if environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"]
    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return request
    # Importable only inside uWSGI, which puts it in sys.modules.
    uwsgi = sys.modules.get("uwsgi")
    if uwsgi is not None and hasattr(uwsgi, "chunked_read"):
        return UwsgiChunks(uwsgi.chunked_read)
    raise LengthRequired(CHUNKED_NOT_DECODED)


CHUNKED_NOT_DECODED = (
    "chunked request body, but this server does not decode chunked bodies: "
    "serve with gunicorn, uvicorn, granian or uWSGI with --http-chunked-input, "
    "or send Content-Length"
)


class UwsgiChunks:
    """A chunked body read through ``uwsgi.chunked_read``, as a stream."""

    def __init__(self, chunked_read):
        self.chunked_read = chunked_read
        self.pending = memoryview(b"")
        self.started = False

    def read(self, size):
        if not self.pending:
            try:
                # One chunk, at most uWSGI's --chunked-input-limit (1 MiB).
                self.pending = memoryview(self.chunked_read())
            except OSError as error:
                if not self.started:
                    # uWSGI without --http-chunked-input has no chunks to give.
                    raise LengthRequired(CHUNKED_NOT_DECODED) from error
                raise BadRequest("chunked request body cut short") from error
            self.started = True
        data = bytes(self.pending[:size])
        self.pending = self.pending[size:]
        return data


def _inflate(data, wbits, limit):
    """
    Yield the output of zlib/gzip/raw-deflate ``data``: ``limit`` bytes at most.

    gzip (``wbits`` 31) may hold several members, one after the other. The
    input goes to each decompressor in slices of :data:`INPUT_STEP` bytes,
    so that ending a member copies at most one slice: a decompressor per
    member handed the rest of the body each time was quadratic in the
    number of members.
    """
    view = memoryview(data)
    size = position = members = 0
    while True:
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise BadRequest(f"more than {MAX_GZIP_MEMBERS} gzip members")
        decompressor = zlib.decompressobj(wbits)
        while not decompressor.eof:
            if position >= len(view):
                raise zlib.error("truncated compressed data")
            pending = view[position : position + INPUT_STEP]
            position += len(pending)
            # Output in chunks (the first line may be all that is wanted),
            # never more than the limit leaves plus one byte to tell it is
            # passed. What a chunk leaves of the piece (unconsumed_tail, a
            # copy) is at most a slice per chunk of output: linear.
            while True:
                wanted = min(CHUNK_SIZE, limit + 1 - size)
                chunk = decompressor.decompress(pending, wanted)
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"decompressed body over {limit} bytes")
                if chunk:
                    yield chunk
                pending = decompressor.unconsumed_tail
                # A full chunk may leave output inside zlib: ask again.
                if decompressor.eof or (not pending and len(chunk) < wanted):
                    break
        position -= len(decompressor.unused_data)
        if wbits < 16:
            return  # zlib and raw deflate: one stream.
        padding_end = _NOT_NUL_RE.search(view, position)
        if padding_end is None:
            return
        position = padding_end.start()


def gunzip(data, limit):
    """Yield the output of gzip ``data`` (one member or a few)."""
    return _inflate(data, 31, limit)


def inflate(data, limit):
    """Yield the output of a zlib stream (RFC 1950), or a raw deflate one."""
    produced = False
    try:
        for chunk in _inflate(data, 15, limit):
            produced = True
            yield chunk
        return
    except zlib.error:
        # Not zlib (its header check fails before any output): raw deflate,
        # as some clients send for "deflate". Each is tried once: linear.
        if produced:
            raise
    yield from _inflate(data, -15, limit)


def unbrotli(data, limit):
    """Yield the output of brotli ``data``."""
    if brotli is None:
        raise UnsupportedEncoding(
            "Content-Encoding br is not supported: install the brotli package"
        )
    decompressor = brotli.Decompressor()
    bounded = hasattr(decompressor, "can_accept_more_data")
    size = 0
    # Without output_buffer_limit (old brotli, brotlicffi), feed small pieces
    # so that the check below runs often.
    step = CHUNK_SIZE if bounded else 1024
    for start in range(0, max(len(data), 1), step):
        piece = data[start : start + step]
        if bounded:
            chunk = decompressor.process(piece, output_buffer_limit=CHUNK_SIZE)
            # Drain what the piece expands to, one bounded chunk at a time.
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"decompressed body over {limit} bytes")
                yield chunk
                if decompressor.is_finished():
                    break
                chunk = decompressor.process(b"", output_buffer_limit=CHUNK_SIZE)
        else:  # pragma: no cover - depends on the installed module
            chunk = decompressor.process(piece)
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"decompressed body over {limit} bytes")
            yield chunk
    if not decompressor.is_finished():
        raise ValueError("truncated brotli data")


def _identity(data, limit):
    if len(data) > limit:
        raise TooLarge(f"body over {limit} bytes")
    yield data


DECODERS = {
    "gzip": gunzip,
    "x-gzip": gunzip,
    "deflate": inflate,
    "br": unbrotli,
}


def content_coding(encoding):
    """
    Return the one coding ``Content-Encoding`` names (``"identity"`` if none).

    One layer at most: no SDK stacks encodings, and each layer multiplies
    what a small body can cost (``gzip, gzip`` of empty members was seconds
    of CPU time for 10 KB), so a second layer is refused with a 415.
    """
    codings = [c.strip().lower() for c in (encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise UnsupportedEncoding(
            f"one Content-Encoding at most, not {len(codings)} layers"
        )
    if not codings:
        return "identity"
    if codings[0] not in DECODERS:
        raise UnsupportedEncoding(f"unsupported Content-Encoding: {codings[0][:40]}")
    return codings[0]


def _chunks(body, encoding, limit):
    """Yield the decoded body in chunks, errors turned into answers."""
    coding = content_coding(encoding)
    decoder = DECODERS.get(coding, _identity)
    try:
        yield from decoder(body, limit)
    except IngestError:
        raise
    except Exception as exc:
        raise BadRequest(f"invalid {coding} body", causes=[exc]) from None


def decode_content(body, encoding, limit):
    """Undo ``Content-Encoding``: the decoded body, ``limit`` bytes at most."""
    return b"".join(_chunks(body, encoding, limit))


def decode_head(body, encoding, limit):
    """
    Return the decoded body's first line, or None past :data:`HEAD_LIMIT`.

    Only as much is decoded as that takes, so that a key named in the first
    line (an envelope header's ``dsn``) is checked before the rest is.
    """
    head = []
    size = 0
    for chunk in _chunks(body, encoding, limit):
        end = chunk.find(b"\n", 0, HEAD_LIMIT - size)
        if end >= 0:
            head.append(chunk[:end])
            return b"".join(head)
        head.append(chunk[: HEAD_LIMIT - size])
        size += len(head[-1])
        if size >= HEAD_LIMIT:
            return None
    return b"".join(head)


def decode_store_body(body, limit):
    """
    Return the JSON bytes of a legacy store body.

    As Sentry's servers do: JSON when it starts with ``{``; else base64,
    which is JSON or a zlib stream of JSON (older raven releases).
    """
    body = body.strip()
    if body.startswith(b"{"):
        return body
    try:
        decoded = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is not None:
        if decoded.lstrip().startswith(b"{"):
            return decoded
        body = decoded
    try:
        return b"".join(inflate(body, limit))
    except TooLarge:
        raise
    except Exception as exc:
        raise BadRequest(
            "the body is neither JSON nor base64/zlib-encoded JSON", causes=[exc]
        ) from None


def parse_json_object(data, what="the event"):
    """Parse JSON bytes into a dict; :class:`BadRequest` for anything else."""
    if isinstance(data, (bytes, bytearray)):
        # json.loads() would let UTF-8-encoded surrogates through
        # ("surrogatepass"): they are not UTF-8 (RFC 3629), and not stored.
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{what} is not valid UTF-8", causes=[exc]) from None
    try:
        value = json.loads(data)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"{what} is not valid JSON", causes=[exc]) from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return value
