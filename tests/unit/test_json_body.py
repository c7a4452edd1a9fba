"""What the body parser refuses, named: integers past 300 digits, non-finite numbers, constants."""

import pytest

from pruefstand.contracts.errors import MalformedMessage
from pruefstand.contracts.json_body import parse_json_body


def test_an_integer_of_300_digits_is_a_number_and_one_more_digit_is_refused_by_its_length() -> None:
    assert parse_json_body(b'{"n": ' + b"9" * 300 + b"}") == {"n": int("9" * 300)}
    with pytest.raises(MalformedMessage, match="an integer of 301 digits is out of range"):
        parse_json_body(b'{"n": [1, 2, -' + b"9" * 301 + b"]}")


@pytest.mark.parametrize(
    ("raw", "said"),
    [(b'{"n": 1e400}', "number 1e400 is out of range"), (b'{"n": NaN}', "NaN is not a JSON number")],
)
def test_numbers_no_contract_can_describe_are_refused_with_what_they_are(raw: bytes, said: str) -> None:
    with pytest.raises(MalformedMessage, match=said):
        parse_json_body(raw)


def test_the_shared_decoder_keeps_nothing_between_bodies() -> None:
    assert parse_json_body(b'{"a": {"b": 1.5}}') == {"a": {"b": 1.5}}
    assert parse_json_body(b'[{"a": 2}]') == [{"a": 2}]
