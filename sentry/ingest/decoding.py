"""
Bodies: read under a cap, undo ``Content-Encoding`` under a cap, parse JSON.

The raw body is read from the request stream, never through
``request.body`` (which refuses bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
with a 400 of its own). Every decoder inflates incrementally with a limit on
its output, so a decompression bomb costs at most the limit: 413.
"""

import base64
import binascii
import json
import zlib

from .responses import BadRequest, TooLarge, UnsupportedEncoding

try:  # Optional: without it, br bodies are answered 415.
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    try:
        import brotlicffi as brotli
    except ImportError:
        brotli = None

CHUNK_SIZE = 64 * 1024


def read_body(request, limit):
    """Return the raw request body; :class:`TooLarge` beyond ``limit`` bytes."""
    length = request.META.get("CONTENT_LENGTH")
    try:
        if length and int(length) > limit:
            raise TooLarge(f"request body over {limit} bytes")
    except ValueError:
        pass
    chunks = []
    size = 0
    while True:
        chunk = request.read(CHUNK_SIZE)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(data, wbits, limit):
    """Inflate zlib/gzip/raw-deflate ``data`` to at most ``limit`` bytes."""
    output = []
    size = 0
    while True:
        decompressor = zlib.decompressobj(wbits)
        pending = data
        while pending:
            chunk = decompressor.decompress(pending, limit + 1 - size)
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"decompressed body over {limit} bytes")
            output.append(chunk)
            pending = decompressor.unconsumed_tail
            if decompressor.eof:
                break
        if not decompressor.eof:
            raise zlib.error("truncated compressed data")
        data = decompressor.unused_data
        # gzip allows several members one after the other.
        if not (data and wbits > 16 and data.lstrip(b"\0")):
            return b"".join(output)


def gunzip(data, limit):
    return _inflate(data, 31, limit)


def inflate(data, limit):
    """Inflate a zlib stream (RFC 1950), or a raw deflate one as a fallback."""
    try:
        return _inflate(data, 15, limit)
    except zlib.error:
        return _inflate(data, -15, limit)


def unbrotli(data, limit):
    if brotli is None:
        raise UnsupportedEncoding(
            "Content-Encoding br is not supported: install the brotli package"
        )
    decompressor = brotli.Decompressor()
    bounded = hasattr(decompressor, "can_accept_more_data")
    output = []
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
                output.append(chunk)
                if decompressor.is_finished():
                    break
                chunk = decompressor.process(b"", output_buffer_limit=CHUNK_SIZE)
        else:  # pragma: no cover - depends on the installed module
            chunk = decompressor.process(piece)
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"decompressed body over {limit} bytes")
            output.append(chunk)
    if not decompressor.is_finished():
        raise ValueError("truncated brotli data")
    return b"".join(output)


DECODERS = {
    "gzip": gunzip,
    "x-gzip": gunzip,
    "deflate": inflate,
    "br": unbrotli,
}


def decode_content(body, encoding, limit):
    """Undo ``Content-Encoding`` (a comma-separated list, applied in order)."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = DECODERS.get(coding)
        if decoder is None:
            raise UnsupportedEncoding(f"unsupported Content-Encoding: {coding}")
        try:
            body = decoder(body, limit)
        except (TooLarge, UnsupportedEncoding):
            raise
        except Exception as exc:
            raise BadRequest(f"invalid {coding} body", causes=[exc]) from None
    if len(body) > limit:
        raise TooLarge(f"body over {limit} bytes")
    return body


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
        return inflate(body, limit)
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
