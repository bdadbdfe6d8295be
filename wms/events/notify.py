"""A nudge after commit: new outbox rows exist, so dispatch them now rather than at the next sweep.

The nudge is an optimisation only. Losing one (a crash right after commit, a broker hiccup) delays
delivery until the sweeper's next pass; it never loses an event.
"""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def notify(self) -> None:
        """Called after a transaction that wrote outbox rows has committed."""


class NullNotifier:
    """For processes that do no delivery of their own (the CLI, tests of the domain)."""

    def notify(self) -> None:
        return None
