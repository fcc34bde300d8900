"""printing/__init__ loads its names on first use (PEP 562); its written-out __all__ matches what it loads."""

from __future__ import annotations

from huifang_desktop import printing


def test_all_lists_exactly_the_lazily_loaded_names() -> None:
    assert sorted(printing.__all__) == sorted(printing._WHERE)


def test_every_listed_name_loads_from_its_module() -> None:
    for name in printing.__all__:
        value = getattr(printing, name)
        assert value.__module__.startswith("huifang_desktop.printing."), name
