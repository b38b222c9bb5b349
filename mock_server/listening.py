"""The listening socket, bound before the server starts: a taken port is one clear error, and
the port really bound (`--port 0`) is known before anything is printed or returned."""

from __future__ import annotations

import os
import socket


class CannotListen(RuntimeError):
    """The address cannot be bound; the message names it and says why, in one line."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` and listening (connections queue until the server accepts).

    A host name binds its first address, the one clients resolving it try first.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:  # a host name that does not resolve
        raise CannotListen(_reason(host, port, str(exc.strerror))) from None
    # Made as asyncio makes its own, not with socket.create_server: that one leaves `proto` 0,
    # which accepted connections inherit, and asyncio turns Nagle off only on sockets whose
    # proto is TCP; with it on, every response waited some 40 ms for a delayed ACK.
    sock = socket.socket(family, kind, proto)
    try:
        if os.name == "posix":  # a restart need not wait out TIME_WAIT (on Windows it would share the port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen()
    except OSError as exc:
        sock.close()
        raise CannotListen(_reason(host, port, exc.strerror or str(exc))) from None
    return sock


def url_for(sock: socket.socket) -> str:
    """`http://address:port` of a listening socket, as bound (brackets around IPv6)."""
    address, port = sock.getsockname()[:2]
    return f"http://{_join(address, port)}"


def _reason(host: str, port: int, why: str) -> str:
    return f"cannot listen on {_join(host, port)}: {why[:1].lower()}{why[1:]}"


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
