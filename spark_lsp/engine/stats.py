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


# -- acceptance: what the user did with the suggestions shown -----------------------------------


@dataclass
class LanguageAcceptance:
    """One language's counts and the latency of its suggestions (ms, recent window)."""

    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=512))

    def snapshot(self) -> dict[str, object]:
        """JSON-ready: counts, the acceptance rate and latency percentiles."""
        samples = list(self.latencies)
        return {
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "acceptanceRate": _rate(self.accepted, self.shown),
            "latencyMs": {
                "p50": round(percentile(samples, 50), 1),
                "p90": round(percentile(samples, 90), 1),
                "p99": round(percentile(samples, 99), 1),
            },
        }


@dataclass
class AcceptanceStats:
    """Shown, accepted and partially accepted suggestions per language: counts only.

    Kept apart from the pipeline's counters because it measures the user, not the server: a
    suggestion is counted once however many requests re-show it while it is typed through.
    No text is kept, so nothing of the user's code can leak from here.
    """

    languages: dict[str, LanguageAcceptance] = field(default_factory=dict)

    def _of(self, language: str) -> LanguageAcceptance:
        found = self.languages.get(language)
        if found is None:
            found = self.languages[language] = LanguageAcceptance()
        return found

    def shown(self, language: str, latency_ms: float) -> None:
        """A new suggestion went to the editor after ``latency_ms``."""
        entry = self._of(language)
        entry.shown += 1
        entry.latencies.append(latency_ms)

    def partially_accepted(self, language: str) -> None:
        """A first part (a word, a line) of a shown suggestion was accepted."""
        self._of(language).partially_accepted += 1

    def accepted(self, language: str, *, after_part: bool) -> None:
        """A suggestion was accepted whole; ``after_part``: the rest of one already counted
        as partially accepted, which now counts once, as accepted."""
        entry = self._of(language)
        entry.accepted += 1
        if after_part:
            entry.partially_accepted -= 1

    def snapshot(self) -> dict[str, object]:
        """Per language, plus the total over all of them."""
        total = LanguageAcceptance(latencies=deque(maxlen=None))
        for entry in self.languages.values():
            total.shown += entry.shown
            total.accepted += entry.accepted
            total.partially_accepted += entry.partially_accepted
            total.latencies.extend(entry.latencies)
        return {
            "total": total.snapshot(),
            "languages": {name: entry.snapshot() for name, entry in self.languages.items()},
        }


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 3)
