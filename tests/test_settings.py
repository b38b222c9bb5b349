"""RunningMock binds its port when it is made: the port it serves on, or a clear error."""

from __future__ import annotations

import socket
from contextlib import closing

import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningMock


def test_running_mock_on_a_taken_port_says_so(capfd: pytest.CaptureFixture[str]) -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}: address already in use"):
            RunningMock(Settings(port=port)).start()
    assert "Traceback" not in capfd.readouterr().err


def test_running_mock_picks_a_free_port_and_serves_on_it() -> None:
    with RunningMock() as mock:
        assert mock.settings.port != 0
        assert mock.base_url == f"http://127.0.0.1:{mock.settings.port}"
        assert mock.http.get("/__admin/health").status_code == 200


def test_running_mock_on_ipv6_loopback() -> None:
    try:
        with closing(socket.socket(socket.AF_INET6, socket.SOCK_STREAM)) as sock:
            sock.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with RunningMock(host="::1") as mock:
        assert mock.base_url.startswith("http://[::1]:")
        assert mock.http.get("/__admin/health").status_code == 200
