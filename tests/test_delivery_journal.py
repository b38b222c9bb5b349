"""The delivery journal's size bound, at unit level: what it drops, and how much it looks at to decide.

A receiver that is down leaves every message unfinished; the journal must then keep them all
without re-examining them on every add, or Create Verification slows with the backlog.
"""

from __future__ import annotations

from mock_server.webhooks.messages import DELIVERED, FAILED, PENDING, DeliveryJournal, Message


class ExaminedMessage(Message):
    """A real message that counts how often anyone asks whether it is finished."""

    examined = 0

    @property
    def finished(self) -> bool:
        ExaminedMessage.examined += 1
        return self.state in (DELIVERED, FAILED, "aborted")


def message(number: int) -> ExaminedMessage:
    return ExaminedMessage(
        message_id=f"msg_{number}",
        endpoint_id="ep_config_1",
        url="http://127.0.0.1:9/webhooks",
        event="sandbox.verification.updated",
        subject="verification",
        subject_id=f"v{number}",
        body=b"{}",
        created=float(number),
    )


def finish(journal: DeliveryJournal, m: Message, state: str = DELIVERED) -> None:
    m.state = state
    journal.finished(m)


def ids(journal: DeliveryJournal) -> list[str]:
    return [m.message_id for m in journal]


def test_an_undelivered_backlog_is_not_rescanned_on_every_add() -> None:
    journal = DeliveryJournal(size=100)
    ExaminedMessage.examined = 0
    adds = 2_000
    for number in range(adds):
        journal.add(message(number))
    # Every message is still pending, so nothing may go; and deciding that must not cost a look
    # at the whole backlog per add (that was ~1 000 looks per add here, 2 million in all).
    assert len(journal) == adds
    assert ExaminedMessage.examined <= adds


def test_past_its_size_it_drops_finished_messages_in_the_order_they_finished() -> None:
    journal = DeliveryJournal(size=3)
    first, second, third, fourth = (message(n) for n in range(1, 5))
    for m in (first, second, third, fourth):
        journal.add(m)
    assert ids(journal) == ["msg_1", "msg_2", "msg_3", "msg_4"]  # over size, but none finished
    finish(journal, third)
    assert ids(journal) == ["msg_1", "msg_2", "msg_4"]  # room made as soon as one finished
    finish(journal, fourth, FAILED)
    finish(journal, first)
    journal.add(message(5))
    assert ids(journal) == ["msg_1", "msg_2", "msg_5"]  # the 4th finished before the 1st
    journal.add(message(6))
    assert ids(journal) == ["msg_2", "msg_5", "msg_6"]
    journal.add(message(7))
    assert ids(journal) == ["msg_2", "msg_5", "msg_6", "msg_7"]  # the rest are pending: kept
    assert all(m.state == PENDING for m in journal)


def test_a_message_that_is_no_longer_in_the_journal_is_not_dropped_for_one_that_is() -> None:
    journal = DeliveryJournal(size=1)
    stale = message(1)
    journal.add(stale)
    journal.clear()
    # An attempt that was under way during a reset ends afterwards; ids repeat after a reset
    # with --seed, so a new message may carry the same id and must not pay for the old one.
    successor = message(1)
    journal.add(successor)
    finish(journal, stale)
    journal.add(message(2))
    assert ids(journal) == ["msg_1", "msg_2"] and journal.get("msg_1") is successor


def test_finishing_twice_does_not_drop_a_second_message() -> None:
    journal = DeliveryJournal(size=2)
    first, second, third = message(1), message(2), message(3)
    for m in (first, second):
        journal.add(m)
    finish(journal, first)
    finish(journal, first, FAILED)  # a replay of a finished message ends it again
    journal.add(third)
    journal.add(message(4))
    assert ids(journal) == ["msg_2", "msg_3", "msg_4"]
