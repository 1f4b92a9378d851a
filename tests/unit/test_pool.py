"""The lane/connection pool state machine, driven without sockets or a real clock."""

from __future__ import annotations

from spark_lsp.model.pool import Pool

LANES = ("l0", "l1")
ANCHOR_LANES = ("a0", "a1")


def pool(wanted: int = 1) -> Pool[str]:
    return Pool(wanted=wanted, rotate_at_s=100.0, lanes=LANES, anchor_lanes=ANCHOR_LANES)


def serve(p: Pool[str], handle: str, now: float) -> list[str]:
    """What the maintainer does with a dialled link: adopt as standby, then promote."""
    p.add(handle, now)
    return p.promote(handle, now)


def test_a_fresh_pool_dials_what_it_wants_and_no_more_while_dialling() -> None:
    p = pool(wanted=2)
    assert p.dials_needed(0) == 2
    p.dialing = 2
    assert p.dials_needed(0) == 0
    p.dialing = 0
    serve(p, "A", 0)
    serve(p, "B", 0)
    assert p.dials_needed(50) == 0


def test_rotation_keeps_serving_on_the_old_link_until_the_spare_is_promoted() -> None:
    p = pool()
    serve(p, "A", 0)
    running = [p.take(), p.take()]
    assert running == [("A", "l0"), ("A", "l1")]
    assert p.dials_needed(99) == 0
    assert p.due(100) == ["A"] and p.dials_needed(100) == 1
    p.add("B", 100)  # standby: anchors are re-warmed here, requests still go to A
    assert p.serving() == ["A"] and p.standby("B")
    assert p.promote("B", 101) == []  # A still runs two responses: it retires, not closes
    assert p.serving() == ["B"] and p.retiring("A")
    assert p.take() == ("B", "l0")
    assert p.release("A", "l0") is False
    assert p.release("A", "l1") is True  # the last response ended: now A may close
    assert p.take_on("A") is None


def test_an_idle_old_link_closes_as_soon_as_its_spare_serves() -> None:
    p = pool()
    serve(p, "A", 0)
    p.add("B", 100)
    assert p.promote("B", 100) == ["A"]
    assert p.dials_needed(100) == 0


def test_links_that_aged_together_are_replaced_one_at_a_time() -> None:
    p = pool(wanted=2)
    serve(p, "A", 0)
    serve(p, "B", 0)
    assert p.dials_needed(100) == 1  # one spare at a time, never both at once
    p.dialing = 1
    assert p.dials_needed(100) == 0
    p.dialing = 0
    assert serve(p, "C", 100) == ["A"]
    assert sorted(p.serving()) == ["B", "C"]
    assert p.dials_needed(100) == 1  # B is still due
    assert serve(p, "D", 101) == ["B"]
    assert sorted(p.serving()) == ["C", "D"]
    assert p.dials_needed(150) == 0


def test_lanes_run_out_and_come_back() -> None:
    p = pool()
    serve(p, "A", 0)
    assert p.take() == ("A", "l0")
    assert p.take() == ("A", "l1")
    assert p.take() is None
    assert p.release("A", "l1") is False
    assert p.take() == ("A", "l1")
    assert p.release("A", "l9") is False  # not running: ignored


def test_requests_go_to_the_newest_link_and_surplus_idle_links_are_trimmed() -> None:
    p = pool(wanted=1)
    serve(p, "A", 0)
    p.extra = 1
    assert p.dials_needed(1) == 1
    serve(p, "B", 1)
    assert p.extra == 0
    assert p.take() == ("B", "l0")
    assert p.surplus() == ["A"]


def test_anchor_lanes_fill_then_evict_the_least_recently_used() -> None:
    p = pool()
    serve(p, "A", 0)
    first = p.anchor_lane("A")
    assert first is not None and first.evicted is None
    p.release("A", first.lane)
    p.bind_anchor("A", first.lane, "r1")
    second = p.anchor_lane("A")
    assert second is not None and second.lane != first.lane and second.evicted is None
    p.release("A", second.lane)
    p.bind_anchor("A", second.lane, "r2")
    assert p.anchor_home("r1") == "A"  # r1 used: r2 is now the least recently used
    third = p.anchor_lane("A")
    assert third is not None and third.evicted == "r2" and third.lane == second.lane
    assert p.anchor_home("r2") is None


def test_an_anchor_lane_still_warming_is_never_given_away() -> None:
    p = Pool(wanted=1, rotate_at_s=100.0, lanes=LANES, anchor_lanes=("a0",))
    serve(p, "A", 0)
    assert p.anchor_lane("A") is not None
    assert p.anchor_lane("A") is None


def test_a_lost_link_takes_exactly_its_own_anchors() -> None:
    p = pool()
    serve(p, "A", 0)
    p.bind_anchor("A", "a0", "r1")
    p.add("B", 100)
    p.bind_anchor("B", "a0", "r1b")  # re-warmed on the spare
    p.promote("B", 100)
    assert p.anchor_home("r1") is None  # a retiring link's anchors are not chained from
    assert p.anchor_home("r1b") == "B"
    assert p.remove("A") == ["r1"]
    assert p.remove("B") == ["r1b"]


def test_previous_response_not_found_forgets_one_anchor() -> None:
    p = pool()
    serve(p, "A", 0)
    p.bind_anchor("A", "a0", "r1")
    p.bind_anchor("A", "a1", "r2")
    p.forget_anchor("r1")
    assert p.anchor_home("r1") is None and p.anchor_home("r2") == "A"


def test_a_retiring_link_that_never_drains_is_closed_after_its_grace() -> None:
    p = Pool(wanted=1, rotate_at_s=100.0, lanes=LANES, drain_grace_s=30.0)
    serve(p, "A", 0)
    assert p.take() == ("A", "l0")  # a drained response whose end never comes
    assert serve(p, "B", 100) == []
    assert p.overdue(129) == []
    assert p.overdue(130) == ["A"]


def test_asking_where_an_anchor_is_does_not_count_as_using_it() -> None:
    p = pool()
    serve(p, "A", 0)
    p.bind_anchor("A", "a0", "r1")
    p.bind_anchor("A", "a1", "r2")
    assert p.holder("r1") == "A"  # a status check, not a use: r1 stays least recently used
    spot = p.anchor_lane("A")
    assert spot is not None and spot.evicted == "r1"
