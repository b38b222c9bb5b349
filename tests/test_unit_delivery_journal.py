"""The delivery journal (`mock_server/webhooks/messages.py` DeliveryJournal), in process.

tests/test_delivery_journal.py pins the eviction order on examples and its cost. This adds a
stateful hypothesis model of any interleaving of adds, ends (delivered, failed, aborted),
repeated end reports, reports for messages a reset dropped, and resets, checking after every
step: no unfinished message is ever dropped; past its size the journal holds no finished
message; the finished messages it keeps are the last to finish; iteration is in the order
messages were added. Also the backlog counts and the journal's filters.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mock_server.domain.events import DISCOVERY, VERIFICATION
from mock_server.webhooks.messages import (
    ABORTED,
    DELIVERED,
    FAILED,
    PENDING,
    SENDING,
    DeliveryJournal,
    Message,
)

ENDS = (DELIVERED, FAILED, ABORTED)


def message(
    number: int,
    *,
    endpoint_id: str = "ep_config_1",
    url: str = "http://127.0.0.1:9/hooks",
    event: str = "sandbox.verification.updated",
    verification_id: str | None = None,
    discovery_id: str | None = None,
) -> Message:
    """A verification's message, or a discovery's when `discovery_id` is given."""
    subject, subject_id = (DISCOVERY, discovery_id) if discovery_id else (VERIFICATION, verification_id or f"v{number}")
    return Message(
        message_id=f"msg_{number}",
        endpoint_id=endpoint_id,
        url=url,
        event=event,
        subject=subject,
        subject_id=subject_id,
        body=b"{}",
        created=float(number),
    )


def end(journal: DeliveryJournal, m: Message, state: str) -> None:
    """What the dispatcher does when a message reaches an end: set it, then tell the journal."""
    m.state = state
    journal.finished(m)


class JournalModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.size = 1
        self.journal = DeliveryJournal(self.size)
        self.added: list[Message] = []  # since the last reset, in the order added
        self.finish_order: list[Message] = []  # since the last reset, first report of each
        self.stale: list[Message] = []  # dropped by a reset, may still end afterwards
        self.numbers = 0

    # Small sizes, so most runs go past them many times.
    @initialize(size=st.integers(min_value=1, max_value=4))
    def start(self, size: int) -> None:
        self.size = size
        self.journal = DeliveryJournal(size)

    @rule(sending=st.booleans())
    def add(self, sending: bool) -> None:
        self.numbers += 1
        m = message(self.numbers)
        m.state = SENDING if sending else PENDING
        self.journal.add(m)
        self.added.append(m)

    @rule(data=st.data(), state=st.sampled_from(ENDS))
    @precondition(lambda self: any(not m.finished for m in self.added))
    def finish(self, data: st.DataObject, state: str) -> None:
        m = data.draw(st.sampled_from([m for m in self.added if not m.finished]))
        end(self.journal, m, state)
        self.finish_order.append(m)

    @rule(data=st.data(), state=st.sampled_from(ENDS))
    @precondition(lambda self: any(m.finished for m in self.journal))
    def finish_again(self, data: st.DataObject, state: str) -> None:
        # A replay that ends a message already ended reports it once more.
        m = data.draw(st.sampled_from([m for m in self.journal if m.finished]))
        end(self.journal, m, state)

    @rule(data=st.data(), state=st.sampled_from(ENDS))
    @precondition(lambda self: any(not m.finished for m in self.stale))
    def finish_after_reset(self, data: st.DataObject, state: str) -> None:
        m = data.draw(st.sampled_from([m for m in self.stale if not m.finished]))
        end(self.journal, m, state)

    @rule()
    def reset(self) -> None:
        self.journal.clear()
        self.stale.extend(self.added)
        self.added, self.finish_order = [], []
        self.numbers = 0  # with --seed, ids repeat after a reset: a stale message may share one

    @invariant()
    def a_stale_message_is_never_held(self) -> None:
        kept = {id(m) for m in self.journal}
        assert not any(id(m) in kept for m in self.stale)

    @invariant()
    def unfinished_messages_are_never_dropped(self) -> None:
        for m in self.added:
            if not m.finished:
                assert self.journal.get(m.message_id) is m

    @invariant()
    def past_its_size_it_holds_no_finished_message(self) -> None:
        kept = list(self.journal)
        if len(kept) > self.size:
            assert not any(m.finished for m in kept)

    @invariant()
    def it_keeps_the_last_to_finish(self) -> None:
        kept = {id(m) for m in self.journal}
        finished_kept = [id(m) in kept for m in self.finish_order]
        # Dropped ones all finished before every kept one: the flags are False*, then True*.
        assert finished_kept == sorted(finished_kept)

    @invariant()
    def it_holds_what_was_added_in_order_and_nothing_stale(self) -> None:
        kept = list(self.journal)
        positions = {id(m): index for index, m in enumerate(self.added)}
        assert all(id(m) in positions for m in kept)
        assert [positions[id(m)] for m in kept] == sorted(positions[id(m)] for m in kept)
        assert len(self.journal) == len(kept)


JournalModel.TestCase.settings = settings(derandomize=True, deadline=None, max_examples=50, stateful_step_count=30)
TestJournalModel = JournalModel.TestCase


@pytest.mark.parametrize("size", [1, 3])
def test_aborted_messages_make_room_like_the_other_ends(size: int) -> None:
    journal = DeliveryJournal(size)
    messages = [message(n) for n in range(size + 1)]
    for m in messages:
        journal.add(m)
    end(journal, messages[-1], ABORTED)
    assert journal.get(messages[-1].message_id) is None and len(journal) == size


def test_with_every_message_finished_it_holds_exactly_its_size() -> None:
    journal = DeliveryJournal(4)
    for number in range(1, 11):
        m = message(number)
        journal.add(m)
        end(journal, m, ENDS[number % 3])
        assert len(journal) == min(number, 4)
    assert [m.message_id for m in journal] == ["msg_7", "msg_8", "msg_9", "msg_10"]


def test_unfinished_counts_the_backlog_and_what_is_in_flight() -> None:
    journal = DeliveryJournal(100)
    assert journal.unfinished() == (0, 0)
    states = [PENDING, SENDING, PENDING, DELIVERED, SENDING, FAILED, ABORTED, PENDING]
    for number, state in enumerate(states):
        m = message(number)
        m.state = state
        journal.add(m)
    assert journal.unfinished() == (5, 2)


def test_select_matches_every_given_filter() -> None:
    journal = DeliveryJournal(100)
    first = message(1, endpoint_id="ep_a", url="http://a.test/hooks", verification_id="v1")
    second = message(2, endpoint_id="ep_b", url="http://b.test/hooks", verification_id="v1")
    third = message(3, endpoint_id="ep_a", url="http://a.test/hooks", event="verification.pending")
    for m in (first, second, third):
        journal.add(m)
    end(journal, second, FAILED)
    assert journal.select() == [first, second, third]
    assert journal.select(verification_id="v1") == [first, second]
    assert journal.select(endpoint="ep_a") == [first, third]
    assert journal.select(endpoint="http://b.test/hooks") == [second]  # by URL as well as by id
    assert journal.select(event="verification.pending") == [third]
    assert journal.select(state=FAILED) == [second]
    assert journal.select(verification_id="v1", endpoint="ep_a", state=PENDING) == [first]
    assert journal.select(verification_id="v1", event="verification.pending") == []
    assert journal.select(endpoint="ep_") == []  # whole ids and URLs, not prefixes


def test_a_discovery_id_is_no_verification_id() -> None:
    journal = DeliveryJournal(100)
    verification = message(1, verification_id="same-id")
    discovery = message(2, event="sandbox.discovery.updated", discovery_id="same-id")
    for m in (verification, discovery):
        journal.add(m)
    assert journal.select(verification_id="same-id") == [verification]
    assert journal.select(discovery_id="same-id") == [discovery]
