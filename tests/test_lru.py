"""LRU: a bounded mapping that drops the least recently used entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factbot.lru import LRU


def test_storing_beyond_the_size_drops_the_least_recently_stored() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["a"], cache["b"], cache["c"] = 1, 2, 3
    assert list(cache.items()) == [("b", 2), ("c", 3)]
    assert cache.evictions == 1


def test_reading_an_entry_keeps_it_over_older_ones() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1
    cache["c"] = 3
    assert dict(cache) == {"a": 1, "c": 3}
    assert cache["a"] == 1
    cache["d"] = 4
    assert dict(cache) == {"a": 1, "d": 4}


def test_storing_again_refreshes_and_replaces_without_growing() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["a"], cache["b"] = 1, 2
    cache["a"] = 10
    cache["c"] = 3
    assert dict(cache) == {"a": 10, "c": 3}
    assert len(cache) == 2


def test_membership_and_peek_do_not_refresh() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["a"], cache["b"] = 1, 2
    assert "a" in cache
    assert cache.peek("a") == 1
    cache["c"] = 3
    assert "a" not in cache
    assert cache.peek("a") is None


def test_get_gives_the_default_for_a_missing_key() -> None:
    cache: LRU[str, int] = LRU(1)
    assert cache.get("x") is None
    assert cache.get("x", 7) == 7
    with pytest.raises(KeyError):
        cache["x"]


def test_size_zero_keeps_nothing() -> None:
    cache: LRU[str, int] = LRU(0)
    cache["a"] = 1
    assert len(cache) == 0
    assert cache.get("a") is None
    assert cache.evictions == 1


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        LRU(-1)


def test_deleting_popping_and_clearing_work_like_a_dict() -> None:
    cache: LRU[str, int] = LRU(3)
    cache.update({"a": 1, "b": 2, "c": 3})
    del cache["a"]
    assert cache.pop("b") == 2
    assert cache.pop("zz", 0) == 0
    assert cache.setdefault("d", 4) == 4
    assert dict(cache) == {"c": 3, "d": 4}
    cache.clear()
    assert len(cache) == 0
    assert cache.maxsize == 3


@given(st.integers(0, 8), st.lists(st.tuples(st.booleans(), st.integers(0, 12)), max_size=200))
def test_it_behaves_like_a_reference_lru(size: int, ops: list[tuple[bool, int]]) -> None:
    """Against a plain list model: same contents, same order, never over the size."""
    cache: LRU[int, int] = LRU(size)
    model: list[tuple[int, int]] = []  # least recent first
    for n, (store, key) in enumerate(ops):
        found = next((kv for kv in model if kv[0] == key), None)
        if store:
            if found:
                model.remove(found)
            model.append((key, n))
            del model[:max(len(model) - size, 0)]
            cache[key] = n
        else:
            if found:
                model.remove(found)
                model.append(found)
            assert cache.get(key) == (found[1] if found else None)
        assert len(cache) <= size
        assert list(cache.items()) == model
