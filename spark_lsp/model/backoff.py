"""Exponential back-off with full jitter, as a tiny stateful policy.

Reconnect loops of many clients that lost the same server must not retry in lock-step, so every
delay is drawn uniformly from ``[base/2, base]`` of the current step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays that double from ``initial`` to ``maximum``; ``reset()`` after a success."""

    initial: float = 0.25
    maximum: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self, at_least: float = 0.0) -> float:
        """Return the next delay in seconds (never below ``at_least``, e.g. a Retry-After)."""
        base = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return max(at_least, self.rng.uniform(base / 2, base))

    def reset(self) -> None:
        """Forget failures: the next delay starts from ``initial`` again."""
        self.attempts = 0
