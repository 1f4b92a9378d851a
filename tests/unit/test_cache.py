"""CompletionCache: exact hits, typing-through seeds, TTL/LRU bounds, invalidation."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from spark_lsp.engine.cache import CacheHit, CompletionCache

URI = "file:///a.py"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(**kwargs: Any) -> tuple[CompletionCache, Clock]:
    clock = Clock()
    return CompletionCache(timer=clock, **kwargs), clock


def test_exact_hit_and_miss() -> None:
    cache, _ = _cache()
    cache.put(URI, "x = ", "\n", "compute()")
    assert cache.get(URI, "x = ", "\n") == "compute()"
    assert cache.get(URI, "x = ", "") is None
    assert cache.get("file:///b.py", "x = ", "\n") is None


def test_typing_through_serves_the_rest() -> None:
    cache, _ = _cache()
    cache.put(URI, "x = ", "\n", "compute()")
    assert cache.get(URI, "x = com", "\n") == "pute()"
    assert cache.get(URI, "x = compute()", "\n") is None
    assert cache.get(URI, "x = cx", "\n") is None


def test_typing_through_newlines() -> None:
    cache, _ = _cache()
    cache.put(URI, "def f():", "", "\n    return 1\n")
    assert cache.get(URI, "def f():\n    ", "") == "return 1\n"


def test_crlf_and_surrogates_are_not_split() -> None:
    cache, _ = _cache()
    cache.put(URI, "", "", "a\r\nb")
    assert cache.get(URI, "a\r", "") is None
    assert cache.get(URI, "a\r\n", "") == "b"
    lone = "x\ud83d\ude00y"  # a surrogate pair as two code points (surrogatepass text)
    cache.put(URI, "", "!", lone)
    assert cache.get(URI, "x\ud83d", "!") is None
    assert cache.get(URI, "x\ud83d\ude00", "!") == "y"


def test_non_ascii() -> None:
    cache, _ = _cache()
    cache.put(URI, "s = '", "'", "héllo wörld 👋")
    assert cache.get(URI, "s = 'hé", "'") == "llo wörld 👋"


def test_seeds_are_bounded() -> None:
    cache, _ = _cache(max_seeds=8)
    cache.put(URI, "", "", "abcdefghijklmnop")
    assert len(cache) == 9
    assert cache.get(URI, "abcdefgh", "") == "ijklmnop"
    assert cache.get(URI, "abcdefghi", "") is None


def test_ttl_expires() -> None:
    cache, clock = _cache(ttl=10.0)
    cache.put(URI, "a", "b", "cd")
    clock.now = 9.0
    assert cache.get(URI, "a", "b") == "cd"
    clock.now = 10.5
    assert cache.get(URI, "a", "b") is None
    assert cache.get(URI, "ac", "b") is None


def test_maxsize_counts_entries_lru() -> None:
    cache, _ = _cache(maxsize=4, max_seeds=0)
    for i in range(6):
        cache.put(URI, str(i), "", "x")
    assert len(cache) == 4
    assert cache.get(URI, "0", "") is None
    assert cache.get(URI, "5", "") == "x"


def test_only_windows_around_cursor_matter() -> None:
    cache, _ = _cache(before_chars=10, after_chars=3)
    cache.put(URI, "FAR AWAY " + "0123456789", "abcXYZ", "s")
    assert cache.get(URI, "changed..." + "0123456789", "abcQQQ") == "s"
    assert cache.get(URI, "0123456789", "abd") is None


def test_keys_are_hashes_not_prefixes() -> None:
    cache, _ = _cache()
    cache.put(URI, "p" * 5000, "", "s")
    (key,) = [k for k in cache._entries if cache._entries[k] == ("s", 0, "model", None)]
    uri, digest = key
    assert uri == URI and isinstance(digest, bytes) and len(digest) == 16


def test_invalidate_drops_only_that_uri() -> None:
    cache, _ = _cache()
    cache.put(URI, "a", "", "bc")
    cache.put("file:///other", "a", "", "bc")
    cache.invalidate(URI)
    assert cache.get(URI, "a", "") is None
    assert cache.get(URI, "ab", "") is None
    assert cache.get("file:///other", "ab", "") == "c"
    cache.clear()
    assert len(cache) == 0


def test_empty_suggestion_not_stored() -> None:
    cache, _ = _cache()
    cache.put(URI, "a", "", "")
    assert len(cache) == 0


@given(
    before=st.text(max_size=40),
    after=st.text(max_size=10),
    suggestion=st.text(min_size=2, max_size=80).filter(lambda s: "\r" not in s),
    data=st.data(),
)
def test_any_typed_prefix_hits(
    before: str, after: str, suggestion: str, data: st.DataObject
) -> None:
    cache = CompletionCache(max_seeds=64)
    cache.put(URI, before, after, suggestion)
    k = data.draw(st.integers(min_value=0, max_value=min(len(suggestion) - 1, 64)))
    assert cache.get(URI, before + suggestion[:k], after) == suggestion[k:]


def test_lookup_tells_origin_and_typed_length() -> None:
    cache, _ = _cache()
    cache.put(URI, "x = ", "\n", "compute()", origin="prefetch")
    assert cache.lookup(URI, "x = ", "\n") == CacheHit("compute()", "prefetch", 0)
    assert cache.lookup(URI, "x = com", "\n") == CacheHit("pute()", "prefetch", 3)
    cache.put(URI, "y = ", "\n", "1")
    assert cache.lookup(URI, "y = ", "\n") == CacheHit("1", "model", 0)
    assert cache.holds(URI, "y = ", "\n") and not cache.holds(URI, "y =", "\n")


def test_nothing_to_suggest_is_an_answer_without_seeds() -> None:
    cache = CompletionCache()
    cache.put_nothing(URI, "x = ", "", origin="prefetch")
    assert cache.lookup(URI, "x = ", "") == CacheHit("", "prefetch", 0)
    assert cache.holds(URI, "x = ", "")
    assert cache.get(URI, "x = 1", "") is None  # nothing to type through


def test_a_suggestion_keeps_the_response_it_came_from_through_its_seeds() -> None:
    cache, _ = _cache()
    cache.put(URI, "x = ", "\n", "compute()", "prefetch", "resp_1")
    assert cache.lookup(URI, "x = com", "\n") == CacheHit("pute()", "prefetch", 3, "resp_1")
