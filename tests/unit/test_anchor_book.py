"""Logical anchors and recent responses, driven over a pool of plain strings (no sockets)."""

from __future__ import annotations

from spark_lsp.model.anchor_book import Anchor, AnchorBook
from spark_lsp.model.link import Inflight
from spark_lsp.model.pool import Pool
from spark_lsp.model.protocol import CreateRequest


def make(
    capacity: int = 2, anchor_lanes: tuple[str, ...] = ("a0", "a1")
) -> tuple[AnchorBook[str], Pool[str]]:
    pool: Pool[str] = Pool(wanted=1, rotate_at_s=100.0, lanes=("l0",), anchor_lanes=anchor_lanes)
    pool.add("A", 0.0)
    pool.promote("A", 0.0)
    return AnchorBook(pool, capacity=capacity, recent=2), pool


def serve(pool: Pool[str], link: str) -> None:
    pool.add(link, 1.0)
    pool.promote(link, 1.0)


def warm(book: AnchorBook[str], pool: Pool[str], link: str, response_id: str) -> Anchor:
    """What the session does around one warm-up: reserve a lane, send, bind, keep."""
    anchor = Anchor(CreateRequest(input_texts=("context",), model="m", generate=False))
    rebind(book, pool, anchor, link, response_id)
    book.add(response_id, anchor)
    return anchor


def rebind(
    book: AnchorBook[str], pool: Pool[str], anchor: Anchor, link: str, response_id: str
) -> None:
    lane = book.reserve(link)
    assert lane is not None
    pool.release(link, lane)  # the warm-up's terminal event came: the link frees its lane
    book.bind(anchor, link, lane, response_id)


def test_a_warmed_anchor_is_ready_where_it_was_warmed() -> None:
    book, pool = make()
    warm(book, pool, "A", "r1")
    assert book.state("r1") == "ready"
    assert book.home("r1") == ("A", "r1")
    assert book.state("nope") == "gone" and book.home("nope") is None


def test_an_anchor_lost_with_its_link_keeps_its_id_and_moves_to_the_new_link() -> None:
    book, pool = make()
    anchor = warm(book, pool, "A", "r1")
    book.unbind(pool.remove("A"))  # what the session does when "A" closes
    assert book.state("r1") == "warming" and book.home("r1") is None
    assert book.unbound() == [anchor]
    serve(pool, "B")
    rebind(book, pool, anchor, "B", "r9")  # the re-warm names a new response on the new link
    assert book.state("r1") == "ready"
    assert book.home("r1") == ("B", "r9")  # the caller's id, the wire's id
    assert book.unbound() == []


def test_unbinding_touches_only_the_responses_lost() -> None:
    book, pool = make()
    first = warm(book, pool, "A", "r1")
    second = warm(book, pool, "A", "r2")
    book.unbind(["r2", "elsewhere"])
    assert first.bound and not second.bound
    assert book.unbound() == [second]


def test_a_new_warm_up_that_takes_the_lru_anchors_lane_evicts_that_anchor() -> None:
    book, pool = make(capacity=4)
    warm(book, pool, "A", "r1")
    warm(book, pool, "A", "r2")
    assert book.home("r1") is not None  # r1 used: r2 is the least recently used now
    warm(book, pool, "A", "r3")
    assert book.state("r2") == "gone"
    assert book.state("r1") == "ready" and book.state("r3") == "ready"


def test_no_anchor_lane_free_while_every_one_is_warming() -> None:
    book, pool = make(anchor_lanes=("a0",))
    assert book.reserve("A") == "a0"
    assert book.reserve("A") is None
    assert book.reserve("unknown") is None


def test_re_warming_goes_most_recently_used_first() -> None:
    book, pool = make(capacity=4)
    first = warm(book, pool, "A", "r1")
    second = warm(book, pool, "A", "r2")
    book.touch("r1")
    book.touch("gone")  # an anchor evicted meanwhile: nothing to do
    book.unbind(pool.remove("A"))
    assert book.unbound() == [first, second]
    assert book.anchors() == [second, first]  # least recently used first, every one


def test_unbound_anchors_beyond_capacity_are_dropped_oldest_first() -> None:
    book, pool = make(capacity=2, anchor_lanes=("a0", "a1", "a2"))
    warm(book, pool, "A", "r1")
    warm(book, pool, "A", "r2")
    book.unbind(pool.remove("A"))
    serve(pool, "B")
    warm(book, pool, "B", "r3")  # three anchors, two unbound: the older unbound one goes
    assert book.state("r1") == "gone"
    assert book.state("r2") == "warming" and book.state("r3") == "ready"


def test_bound_anchors_are_capped_by_the_pool_not_by_capacity() -> None:
    book, pool = make(capacity=1)
    warm(book, pool, "A", "r1")
    warm(book, pool, "A", "r2")
    assert book.state("r1") == "ready" and book.state("r2") == "ready"


def test_an_anchor_the_server_lost_is_forgotten_and_waits_for_a_re_warm() -> None:
    book, pool = make()
    anchor = warm(book, pool, "A", "r1")
    assert book.lost_by_server("r1") is True
    assert not anchor.bound and book.state("r1") == "warming"
    assert pool.holder("r1") is None
    assert book.lost_by_server("r1") is False  # already unbound: no second re-warm
    assert book.lost_by_server("never") is False


def test_an_anchor_on_a_retiring_link_is_not_ready() -> None:
    book, pool = make()
    warm(book, pool, "A", "r1")
    pool.retire("A")
    assert book.state("r1") == "warming" and book.home("r1") is None


def test_recent_responses_are_kept_newest_first_and_never_shadow_an_anchor() -> None:
    book, pool = make()
    warm(book, pool, "A", "r1")
    runs = [Inflight("l0") for _ in range(3)]
    for number, inflight in enumerate(runs):
        book.remember(f"s{number}", "A", inflight)
    assert book.recent("s0") is None  # only two kept
    assert book.recent("s1") == ("A", runs[1])
    assert book.recent("s2") == ("A", runs[2])
    book.remember("r1", "A", runs[0])
    assert book.recent("r1") is None  # an anchor follows its link: chained by home()
