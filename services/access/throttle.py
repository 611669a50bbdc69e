"""Failed logins, counted per user name and per client address: after ``free`` failures within
``window`` seconds, every further attempt on that name or from that address waits a back-off
that doubles with each failure (``base`` seconds up to ``ceiling``), and is refused without
checking the password (each check costs 0.4 s of scrypt: a flood of them is a denial of service
of its own). A successful login clears its user name's count, not its address's.

Kept in the web process's memory: one console process per deployment, as docflow runs it. The
state is bounded (the oldest keys are dropped past ``max_keys``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    free: int = 5
    window: float = 900.0
    base: float = 60.0
    ceiling: float = 3600.0
    max_keys: int = 50_000
    _records: OrderedDict[str, _Record] = field(default_factory=OrderedDict)

    def wait(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        waits = [r.locked_until - now for k in keys if (r := self._records.get(k)) is not None]
        return max([0.0, *waits])

    def failed(self, keys: list[str], now: float | None = None) -> float:
        """Count a failure against every key; the back-off it earns (0 while still free)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        for key in keys:
            record = self._records.pop(key, None) or _Record()
            record.failures = [t for t in record.failures if now - t < self.window] + [now]
            over = len(record.failures) - self.free
            if over > 0:
                backoff = min(self.ceiling, self.base * 2 ** (over - 1))
                record.locked_until = now + backoff
                longest = max(longest, backoff)
            self._records[key] = record
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)
        return longest

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)


def keys_for(username: str, address: str | None) -> list[str]:
    return [f"user:{username.strip().lower()[:100]}"] + ([f"addr:{address}"] if address else [])
