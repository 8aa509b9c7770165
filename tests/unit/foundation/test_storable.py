"""The walk that finds text PostgreSQL cannot store, and documents too deep or too large."""

from __future__ import annotations

from orchestrix.domain import storable


def test_names_the_first_bad_string_in_document_order_keys_included():
    doc = {"a": ["ok", {"b\x00": 1}], "z": "x\x00"}

    where, problem = storable.first_problem(doc, ("body",)) or ((), "")

    assert where == ("body", "a", 1, "<key>")
    assert isinstance(problem, storable.BadText)


def test_unpaired_surrogates_are_bad_text():
    assert storable.first_problem(["\ud800"]) == ((0,), "not valid Unicode (unpaired surrogate)")


def test_depth_is_bounded_without_recursion_even_for_a_cycle():
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    cycle: list[object] = []
    cycle.append(cycle)

    for doc in (deep, cycle):
        found = storable.first_problem(doc, max_depth=64)
        assert found is not None and isinstance(found[1], storable.TooDeep)
        assert len(found[0]) == 64


def test_the_number_of_values_is_bounded():
    shared = ["x"] * 100
    bomb = [shared] * 100

    found = storable.first_problem(bomb, max_values=5_000)

    assert found is not None and isinstance(found[1], storable.TooLarge)


def test_a_clean_document_has_no_problem():
    assert storable.first_problem({"a": [1, 2.5, None, True, "é"]}) is None
