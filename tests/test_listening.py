"""The listening socket the mock serves on, bound before the server starts."""

from __future__ import annotations

import asyncio
import socket
from contextlib import closing

from mock_server.listening import listen, url_for


def test_connections_accepted_on_it_have_nagle_off() -> None:
    # asyncio disables Nagle only on sockets whose proto is TCP; a listening socket made with
    # proto 0 passes that on to every connection, and each response then waits on a delayed ACK.
    async def nodelay_of_an_accepted_connection() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        sock = listen("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            nodelay = await asyncio.wait_for(accepted, 10)
            writer.close()
        return nodelay

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0


def test_url_names_the_port_bound() -> None:
    with closing(listen("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        assert port != 0
        assert url_for(sock) == f"http://127.0.0.1:{port}"
