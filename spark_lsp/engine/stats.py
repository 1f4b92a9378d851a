"""Latency samples per pipeline stage, for ``spark/stats`` and the benchmarks.

Percentiles over a bounded window of recent samples: cheap to record on every keystroke, and
recent enough to show what the user feels now.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile of ``samples`` (``q`` in 0..100); 0.0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class PipelineStats:
    """Counters and per-stage latency samples in milliseconds."""

    window: int = 512
    counters: Counter[str] = field(default_factory=Counter)
    stages: dict[str, deque[float]] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        """Increment a counter (requests, cache hits, model calls, ...)."""
        self.counters[name] += n

    def time(self, stage: str, ms: float) -> None:
        """Record one duration of a stage."""
        samples = self.stages.get(stage)
        if samples is None:
            samples = self.stages[stage] = deque(maxlen=self.window)
        samples.append(ms)

    def snapshot(self) -> dict[str, object]:
        """Counters plus p50/p90/p99 per stage, JSON-ready."""
        stages = {
            name: {
                "count": len(samples),
                "p50": round(percentile(list(samples), 50), 3),
                "p90": round(percentile(list(samples), 90), 3),
                "p99": round(percentile(list(samples), 99), 3),
            }
            for name, samples in self.stages.items()
        }
        return {
            "counters": dict(self.counters),
            "stages": stages,
            "perAccepted": self.per_accepted(),
        }

    def per_accepted(self) -> dict[str, float] | None:
        """Model calls, input bytes and input tokens per accepted suggestion (all calls, and
        the prefetches' share): the cost of being ready on accept. A suggestion counts as
        accepted when the request at the end of it is answered by its prefetch."""
        accepted = self.counters.get("prefetch_hits", 0)
        if not accepted:
            return None
        names = (
            *("model_calls", "input_bytes", "input_tokens"),
            *("prefetch_calls", "prefetch_input_bytes", "prefetch_input_tokens"),
        )
        return {name: round(self.counters.get(name, 0) / accepted, 1) for name in names}
