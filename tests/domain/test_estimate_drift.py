from decimal import Decimal

import pytest

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.estimate_drift import EstimateFigures, estimate_drift, parse_tolerance

D = Decimal
TOLERANCE = D("0.05")


def drift(old: tuple[str, str], new: tuple[str, str]) -> tuple[str, ...]:
    return estimate_drift(EstimateFigures(D(old[0]), D(old[1])), EstimateFigures(D(new[0]), D(new[1])),
                          TOLERANCE, "USDT")


def test_same_figures_do_not_move():
    assert drift(("1", "99"), ("1", "99")) == ()


def test_a_fee_rise_up_to_the_tolerance_is_accepted_exactly_at_the_edge():
    assert drift(("1", "99"), ("1.05", "99")) == ()
    assert drift(("1", "99"), ("1.0500001", "99")) != ()


def test_a_fee_rise_beyond_the_tolerance_names_both_figures():
    (move,) = drift(("1", "100"), ("1.2", "100"))
    assert "1.2" in move and "from 1" in move


def test_a_lower_fee_or_a_higher_net_never_stops_a_payout():
    assert drift(("1", "99"), ("0.1", "99.9")) == ()


def test_a_net_drop_beyond_the_tolerance_is_reported():
    (move,) = drift(("1", "100"), ("1", "90"))
    assert "90" in move and "instead of 100" in move


def test_a_confirmed_fee_of_zero_allows_no_rise():
    assert drift(("0", "100"), ("0.000001", "100")) != ()


@pytest.mark.parametrize("text", ["-0.1", "1.5", "abc", "NaN", "Infinity"])
def test_bad_tolerances_are_refused_by_name(text):
    with pytest.raises(InvalidFieldError, match="fee_tolerance"):
        parse_tolerance(text)


def test_a_float_tolerance_is_refused():
    with pytest.raises(InvalidFieldError):
        parse_tolerance(0.05)  # type: ignore[arg-type]
