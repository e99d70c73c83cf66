"""An expected ensemble role of kind ``member`` accepts any individual member with its number."""

from __future__ import annotations

from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity


def _identity(ensemble: EnsembleRole | None) -> GribIdentity:
    return GribIdentity(0, 0, 0, ensemble=ensemble)


def test_member_kind_checks_the_number_only() -> None:
    expected = _identity(EnsembleRole("member", 7))
    for kind in (0, 1, 2, 3, 192):
        assert expected.differences(_identity(EnsembleRole(kind, 7))) == []
    for found in (EnsembleRole(3, 8), EnsembleRole("derived", 7), None):
        (problem,) = expected.differences(_identity(found))
        assert problem.startswith("ensemble: expected ensemble member 7 (any type")


def test_a_concrete_kind_is_still_checked() -> None:
    expected = _identity(EnsembleRole(3, 7))
    assert expected.differences(_identity(EnsembleRole(3, 7))) == []
    assert expected.differences(_identity(EnsembleRole(2, 7)))
    assert expected.differences(_identity(None))
