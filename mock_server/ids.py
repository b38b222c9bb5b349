"""Every identifier the mock mints comes from here, so `--seed` makes a run repeatable."""

from __future__ import annotations

import os
import random
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
# RFC 4122 version 4: the version nibble is 4 and the variant bits are 10.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (4 << 76) | (0x8000 << 48)


def _seeded(seed: int) -> random.Random:
    # random.Random seeds with abs(seed), so -5 would repeat 5's identifiers. A negative seed
    # goes in as text instead (hashed, SHA-512): a sequence of its own, while every
    # non-negative seed keeps the identifiers it has always given.
    return random.Random(seed if seed >= 0 else str(seed))


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        # Unseeded, identifiers come from a generator seeded by the OS rather than from the OS
        # itself: SystemRandom makes a system call per draw, one per character of a token,
        # which showed up in every create. Secrets (signing keys) still come from the OS.
        self._rng = _seeded(seed) if seed is not None else random.Random(os.urandom(32))

    @property
    def seeded(self) -> bool:
        return self._seed is not None

    def position(self) -> tuple[int | None, object]:
        """Where a seeded source is in its sequence, and its seed (a state file keeps both)."""
        return self._seed, self._rng.getstate()

    def restore_position(self, position: tuple[int | None, object]) -> None:
        """Go on from `position`, if it is this seed's: another seed starts its own sequence."""
        seed, state = position
        if seed is not None and seed == self._seed:
            self._rng.setstate(state)  # type: ignore[arg-type]

    def reseed(self) -> None:
        if self._seed is not None:
            self._rng = _seeded(self._seed)

    def uuid(self) -> str:
        """A version-4 UUID, the string `uuid.UUID(int=..., version=4)` gives, without the object."""
        n = (self._rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def token(self, length: int = 48) -> str:
        return "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def prefixed(self, prefix: str, length: int = 27) -> str:
        """Svix-style ids: `msg_…`, `ep_…`."""
        return f"{prefix}_{self.token(length)}"

    def secret_bytes(self, n: int = 24) -> bytes:
        if self._seed is None:
            return secrets.token_bytes(n)
        return self._rng.getrandbits(8 * n).to_bytes(n, "big")
