"""How much of a model's reply we are willing to hold, and for how long.

A model endpoint is input we do not control: a proxy, a self-hosted server with a bug, or a
hostile host the user was pointed at. Every buffer that reply bytes land in therefore has a cap,
and every response has a deadline, so one reply can never freeze or exhaust the server.

Why these numbers:

* **Reply text** — a completion can never hold more text than ``max_output_tokens`` tokens
  spell. A token of the tokenizers in use is at most a few dozen bytes and on average about
  four; 16 bytes a token leaves four times the average as room (long runs of spaces, CJK text),
  so a genuine reply never comes near the cap while a runaway one is stopped at once. A request
  without a budget gets the cap of the API's largest budget (128k tokens: 2 MiB).
* **One WebSocket message or SSE event** — the terminal events echo the whole text
  (``output_text.done``, ``output_item.done``, ``response.completed``), JSON escaping can
  spell one byte as six, and reasoning summaries ride along: four times the largest reply is
  room for all of it, and small enough that decoding one such message takes milliseconds.
* **An error body** is a sentence or a small JSON object: 64 KiB is plenty to read its message.
* **The whole response** — a healthy stream writes tokens far faster than the slowest rate we
  allow (``MIN_TOKENS_PER_S``), so the deadline is the budget at that rate plus the stall
  timeout and a floor for the time to the first token. A stream that trickles a token every
  second, or only keeps sending ``in_progress`` events, stops there with a clear error.
"""

from __future__ import annotations

#: Room per output token, in UTF-8 bytes (see the module docstring).
BYTES_PER_TOKEN = 16
#: The API's largest ``max_output_tokens``; used when a request names no budget.
MAX_BUDGET_TOKENS = 128_000
#: Never cap a reply below this (small budgets still get room for a few long lines).
MIN_REPLY_BYTES = 16 * 1024
#: The largest reply any request may get (the largest budget at ``BYTES_PER_TOKEN``).
MAX_REPLY_BYTES = MAX_BUDGET_TOKENS * BYTES_PER_TOKEN
#: One WebSocket message or one SSE event (and so one SSE line).
MAX_MESSAGE_BYTES = 4 * MAX_REPLY_BYTES
#: An error response's body: only its message is read.
MAX_ERROR_BODY_BYTES = 64 * 1024
#: HTTP status line plus headers.
MAX_HEADER_BYTES = 64 * 1024
#: The slowest generation a response deadline allows for (tokens per second).
MIN_TOKENS_PER_S = 8.0
#: Time allowed before the first token (queueing, prompt processing), on top of the budget.
DEADLINE_FLOOR_S = 60.0


def reply_cap(max_output_tokens: int | None) -> int:
    """Bytes of reply text a response with this budget may carry."""
    if max_output_tokens is None or max_output_tokens <= 0:
        return MAX_REPLY_BYTES
    return min(MAX_REPLY_BYTES, max(MIN_REPLY_BYTES, max_output_tokens * BYTES_PER_TOKEN))


def response_deadline(max_output_tokens: int | None, stall_timeout_s: float) -> float:
    """Seconds a whole response may take: the budget at the slowest rate, plus the floor."""
    budget = max_output_tokens if max_output_tokens and max_output_tokens > 0 else 4096
    return DEADLINE_FLOOR_S + stall_timeout_s + budget / MIN_TOKENS_PER_S
