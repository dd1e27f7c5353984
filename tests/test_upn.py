"""UPN check letter: hand-computed cases and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empowered.upn import CHECK_LETTERS, check_letter, is_valid_upn, make_upn


def test_alphabet_leaves_out_i_o_s() -> None:
    assert len(CHECK_LETTERS) == 23
    assert not set("IOS") & set(CHECK_LETTERS)


@pytest.mark.parametrize(
    ("twelve", "letter"),
    [
        # all zeros: sum 0 -> 0 -> A
        ("000000000000", "A"),
        # only character 2 is 1: 1*2 = 2 -> C
        ("100000000000", "C"),
        # only character 13 is 1: 1*13 = 13 -> P (A..H = 0..7, J=8, K=9, L=10, M=11, N=12, P=13)
        ("000000000001", "P"),
        # 2*2 + 0*3 + 1*4 + 2*5 + 0*6 + 0*7 + 1*8 + 2*9 + 5*10 + 0*11 + 0*12 + 1*13
        # = 4 + 4 + 10 + 8 + 18 + 50 + 13 = 107; 107 mod 23 = 15 -> R
        ("201200125001", "R"),
        # all nines: 9 * (2+...+13) = 9 * 90 = 810; 810 mod 23 = 810 - 805 = 5 -> F
        ("999999999999", "F"),
        # 8*2 + 2*3 + 3*4 + 7*5 + 0*6 + 0*7 + 1*8 + 1*9 + 9*10 + 1*11 + 2*12 + 3*13
        # = 16 + 6 + 12 + 35 + 8 + 9 + 90 + 11 + 24 + 39 = 250; 250 mod 23 = 20 -> X
        ("823700119123", "X"),
    ],
)
def test_hand_computed_check_letters(twelve: str, letter: str) -> None:
    assert check_letter(twelve) == letter
    assert is_valid_upn(letter + twelve)


def test_make_upn_assembles_parts_in_order() -> None:
    assert make_upn("201", "2001", 25, 1) == "R201200125001"
    assert make_upn("823", "7001", 19, 123) == "X823700119123"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "R20120012500",  # 12 characters
        "R2012001250011",  # 14 characters
        "S201200125001",  # S is never a check letter
        "A201200125001",  # wrong letter
        "r201200125001",  # lower case
        "R20120012500A",  # temporary UPN: not accepted
        "R2012001 5001",
        "R２01200125001",  # full-width digit: not ASCII
    ],
)
def test_invalid_upns_are_rejected(bad: str) -> None:
    assert not is_valid_upn(bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("20", "2001", 25, 1), "la_code"),
        (("201", "201", 25, 1), "estab"),
        (("201", "2001", 100, 1), "year2"),
        (("201", "2001", 25, 1000), "serial"),
        (("2a1", "2001", 25, 1), "la_code"),
    ],
)
def test_make_upn_rejects_bad_parts(args: tuple[str, str, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_upn(*args)


def test_check_letter_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        check_letter("20120012500A")


upn_parts = st.tuples(
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.integers(0, 99),
    st.integers(0, 999),
)


@given(upn_parts)
def test_every_made_upn_validates(parts: tuple[str, str, int, int]) -> None:
    upn = make_upn(*parts)
    assert len(upn) == 13
    assert is_valid_upn(upn)


@given(upn_parts, st.integers(1, 12), st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(
    parts: tuple[str, str, int, int], position: int, shift: int
) -> None:
    upn = make_upn(*parts)
    # Weights 2..13 are all coprime with 23, so any single-digit change moves the sum by
    # a non-multiple of 23 and must change the letter.
    digit = (int(upn[position]) + shift) % 10
    changed = upn[:position] + str(digit) + upn[position + 1 :]
    assert not is_valid_upn(changed)


@given(upn_parts)
def test_any_other_check_letter_fails(parts: tuple[str, str, int, int]) -> None:
    upn = make_upn(*parts)
    for letter in CHECK_LETTERS:
        if letter != upn[0]:
            assert not is_valid_upn(letter + upn[1:])
