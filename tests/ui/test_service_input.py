"""Post and comment numbers as they arrive from URLs, forms and API calls."""

from __future__ import annotations

import pytest

from ui.service import MAX_ID, NO_SUCH_POST, ValidationError, parse_post_id


@pytest.mark.parametrize(("raw", "expected"), [(42, 42), ("42", 42), (" 7 ", 7), (3.0, 3), (MAX_ID, MAX_ID)])
def test_post_ids_are_read_from_numbers_and_digits(raw: object, expected: int) -> None:
    assert parse_post_id(raw) == expected


@pytest.mark.parametrize("raw", [0, -1, "-5", 2**31, 2**63, "9" * 30])
def test_out_of_range_ids_name_no_post(raw: object) -> None:
    with pytest.raises(ValidationError, match=NO_SUCH_POST):
        parse_post_id(raw)


@pytest.mark.parametrize("raw", ["abc", "", None, "1e3", "４２", True, 1.5, "9" * 31, [1]])
def test_non_numeric_ids_get_a_korean_message(raw: object) -> None:
    with pytest.raises(ValidationError, match="숫자로 입력해"):
        parse_post_id(raw)
