"""The simulated clock: world milliseconds, and answers that hold until the clock moves.

Inside the world times are integer milliseconds since the epoch; records hand out aware
`datetime`s and leave the wire format to the dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MEMO_LIMIT = 512
_T = TypeVar("_T")


def instant(ms: int) -> datetime:
    """Turn world milliseconds into an aware UTC datetime (exact to the millisecond)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def millis(moment: datetime) -> int:
    """Turn an aware datetime into world milliseconds."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class Clock:
    """The simulated now, shared by every part of the world.

    It also remembers answers worked out from the world at this now (the filtered run list,
    the session view, range counts), which a loader asks for page after page; they are
    forgotten when the clock moves or a write changes the world.
    """

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self._memo: dict[tuple[Any, ...], Any] = {}

    @property
    def now(self) -> datetime:
        """The simulated now."""
        return instant(self.now_ms)

    def move_to(self, now_ms: int) -> None:
        """Set the clock; every remembered answer is forgotten."""
        self.now_ms = now_ms
        self.forget()

    def forget(self) -> None:
        """Forget every remembered answer (the world changed)."""
        self._memo.clear()

    def remembered(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        """The answer for `key`, computed once per clock time."""
        if key not in self._memo:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]
