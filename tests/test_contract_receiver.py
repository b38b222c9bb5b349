"""The contract kit's webhook receiver keeps whatever arrives, however odd, and answers it: as
scripted, else by whether the signature verifies."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest
from svix.webhooks import Webhook

from contract_tests.receiver import Reply, WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET


def test_a_delivery_nested_past_the_parsers_depth_is_kept_unparsed() -> None:
    body = ("[" * 100_000 + "]" * 100_000).encode()
    now = datetime.now(UTC)
    headers = {
        "svix-id": "msg_deep",
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": Webhook(DEFAULT_WEBHOOK_SECRET).sign("msg_deep", now, body.decode()),
        "content-type": "application/json",
    }
    with WebhookReceiver(DEFAULT_WEBHOOK_SECRET) as receiver:
        response = httpx.post(receiver.url, content=body, headers=headers, timeout=10)
        assert response.status_code == 204
        [item] = receiver.received
    assert item.verified and item.payload is None and item.body == body


OTHER_SECRET = "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9ubHkh"


def _signed(secret: str, message_id: str, body: bytes = b'{"event":"verification.updated"}') -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "svix-id": message_id,
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": Webhook(secret).sign(message_id, now, body.decode()),
        "content-type": "application/json",
    }


def _post(receiver: WebhookReceiver, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(receiver.url, content=b'{"event":"verification.updated"}', headers=headers, timeout=10)


def test_scripted_replies_answer_first_whatever_the_signature() -> None:
    script = [Reply(503), Reply(302, {"location": "/elsewhere"}, body=b"moved")]
    with WebhookReceiver(DEFAULT_WEBHOOK_SECRET, script=script, accepted_status=200) as receiver:
        first = _post(receiver, _signed(OTHER_SECRET, "msg_1"))
        second = _post(receiver, _signed(DEFAULT_WEBHOOK_SECRET, "msg_2"))
        third = _post(receiver, _signed(DEFAULT_WEBHOOK_SECRET, "msg_3"))
        fourth = _post(receiver, _signed(OTHER_SECRET, "msg_4"))
        received = receiver.wait_for_count(4)
    assert first.status_code == 503
    assert (second.status_code, second.headers["location"], second.content) == (302, "/elsewhere", b"moved")
    assert (third.status_code, fourth.status_code) == (200, 400)  # the script spent: the signature decides
    assert [item.verified for item in received] == [False, True, True, False]
    assert {item.path for item in received} == {"/webhooks"}
    assert receiver.script == []


def test_a_secret_learned_later_verifies_what_comes_after() -> None:
    with WebhookReceiver() as receiver:
        assert _post(receiver, _signed(OTHER_SECRET, "msg_1")).status_code == 400
        receiver.add_secret(OTHER_SECRET)
        assert _post(receiver, _signed(OTHER_SECRET, "msg_2")).status_code == 204
        assert [item.verified for item in receiver.received] == [False, True]


def test_waiting_for_more_deliveries_than_come_names_the_count() -> None:
    with WebhookReceiver(DEFAULT_WEBHOOK_SECRET) as receiver:
        _post(receiver, _signed(DEFAULT_WEBHOOK_SECRET, "msg_1"))
        assert len(receiver.wait_for_count(1)) == 1
        with pytest.raises(AssertionError, match="expected 2 deliveries, got 1"):
            receiver.wait_for_count(2, timeout=0.2)


def test_clear_forgets_a_delivery_already_on_its_way_in() -> None:
    # A mock reset (or stopped) after writing a delivery: the bytes still reach the receiver,
    # and must not be recorded after the clear meant to forget them.
    with WebhookReceiver(DEFAULT_WEBHOOK_SECRET) as receiver:
        host, port = receiver.url.split("//")[1].split("/")[0].split(":")
        for _ in range(20):
            with socket.create_connection((host, int(port))) as sender:
                sender.sendall(b"POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                receiver.clear()
                receiver.quiesce()  # whatever arrived before this call is in the inbox now
                assert receiver.received == []
