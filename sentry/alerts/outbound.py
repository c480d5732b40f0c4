"""
Outgoing HTTP requests of the alert channels, made safe to point anywhere.

A channel's URL is typed by staff, or comes from settings, but the request
leaves from the server, inside its network: it must not become a way to
reach the database, the cloud's metadata service or an admin page on
loopback. So, for every request:

* only ``http`` and ``https`` URLs, with a host;
* the host is resolved once, and **every** address it resolves to is
  checked: loopback, private, link-local, multicast, reserved and
  unspecified addresses are refused unless
  :setting:`SENTRY_ALERTS_ALLOWED_NETWORKS` lists them;
* the connection goes to the address that was checked (never resolved a
  second time, so a name that answers differently the next time cannot slip
  through), with the host name kept for ``Host`` and for TLS (SNI and the
  certificate check);
* redirects are not followed (a 3xx is a failed delivery: the target would
  have to be checked again, and a receiver has no reason to redirect);
* short timeouts, a body size cap, and at most :data:`MAX_RESPONSE_BYTES`
  of the answer read.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlsplit

from ..conf import settings

#: Seconds to connect, and for each read of the answer.
TIMEOUT = 5
#: Seconds one whole exchange (connect, send, read the answer) may take.
EXCHANGE_TIMEOUT = 10
#: Largest request body sent.
MAX_BODY_BYTES = 256 * 1024
#: Largest part of an answer read (kept for the delivery log).
MAX_RESPONSE_BYTES = 4096


class DeliveryError(Exception):
    """A request that could not be made or was not accepted (a 2xx)."""

    def __init__(self, reason, status=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Response:
    """The status and the first bytes of a receiver's answer."""

    def __init__(self, status, body):
        self.status = status
        self.body = body

    def __repr__(self):
        return f"<Response {self.status}>"


def allowed_networks():
    """Return the networks :setting:`SENTRY_ALERTS_ALLOWED_NETWORKS` opens."""
    return [
        ipaddress.ip_network(text, strict=False)
        for text in settings.ALERTS_ALLOWED_NETWORKS
    ]


def is_public(address):
    """Return whether ``address`` (an ip_address) is on the public internet."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_address(address, networks):
    """Raise :class:`DeliveryError` unless a request may go to ``address``."""
    if is_public(address) or any(address in network for network in networks):
        return
    raise DeliveryError(
        f"{address} is a private, loopback, link-local or reserved address; "
        "list its network in SENTRY_ALERTS_ALLOWED_NETWORKS to allow it"
    )


def resolve(host, port):
    """Return the addresses ``host`` resolves to, each checked, in order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {host!r}: {exc}") from None
    networks = allowed_networks()
    addresses = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        # One refused address refuses the name: which one a client uses is
        # not ours to choose.
        check_address(address, networks)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DeliveryError(f"{host!r} has no address")
    return addresses


def post(url, body, headers=None, timeout=TIMEOUT):
    """
    POST ``body`` (bytes) to ``url``; return the :class:`Response`.

    Raise :class:`DeliveryError` when the URL or its addresses are refused,
    the receiver cannot be reached in time, or it answers other than 2xx.
    """
    if len(body) > MAX_BODY_BYTES:
        raise DeliveryError(f"body of {len(body)} bytes over {MAX_BODY_BYTES}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("only http and https URLs with a host are allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DeliveryError("the URL's port is not a number in range") from None
    addresses = resolve(parts.hostname, port)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "django-sentry",
        **(headers or {}),
        "Content-Length": str(len(body)),
    }
    last_error = None
    for address in addresses:
        connection = _connection(parts.scheme, parts.hostname, port, address, timeout)
        # Each socket operation has its timeout; a receiver answering a byte
        # at a time would still hold the plugin's thread without this.
        timer = threading.Timer(EXCHANGE_TIMEOUT, connection.cut)
        timer.daemon = True
        timer.start()
        try:
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            response = Response(answer.status, answer.read(MAX_RESPONSE_BYTES))
        except (OSError, http.client.HTTPException) as exc:
            last_error = DeliveryError(f"{type(exc).__name__}: {exc}")
            if connection.was_cut:
                last_error = DeliveryError(
                    f"no complete answer within {EXCHANGE_TIMEOUT} s"
                )
            continue
        finally:
            timer.cancel()
            connection.close()
        if connection.was_cut:
            last_error = DeliveryError(
                f"no complete answer within {EXCHANGE_TIMEOUT} s"
            )
            continue
        if 200 <= response.status < 300:
            return response
        if 300 <= response.status < 400:
            raise DeliveryError(
                f"answered {response.status} (redirects are not followed)",
                status=response.status,
            )
        raise DeliveryError(f"answered {response.status}", status=response.status)
    raise last_error


def _connection(scheme, host, port, address, timeout):
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port, str(address), timeout)
    return _PinnedHTTPConnection(host, port, str(address), timeout)


class _Pinned:
    """Connect to the checked address; let another thread cut the exchange."""

    address = None
    was_cut = False

    def _open(self):
        return socket.create_connection((self.address, self.port), self.timeout)

    def cut(self):
        self.was_cut = True
        try:
            if self.sock is not None:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    """An HTTP connection to a checked address, ``Host`` the URL's."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = self._open()


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; TLS checks the URL's host."""

    def __init__(self, host, port, address, timeout):
        super().__init__(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
        self.address = address

    def connect(self):
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)
