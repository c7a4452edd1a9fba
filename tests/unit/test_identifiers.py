"""Check digits and formats against the vectors of domain/maco.md §11."""

import pytest

from pruefstand.mock_server.flows.maco import identifiers as ids

VALID_MALO = [
    "74018657187",
    "57685676748",
    "51238696781",
    "41373559241",
    "55123678945",
    "56789012345",
    "52935155442",
]
INVALID_MALO = [
    "50754496000",
    "52754496222",
    "12345678901",
    "50754497777",
    "98167038547",
    "50074561192",
    "12345678910",
]


@pytest.mark.parametrize("malo", VALID_MALO)
def test_given_a_valid_malo_id_then_its_check_digit_passes(malo: str) -> None:
    assert ids.has_valid_malo_check_digit(malo)


@pytest.mark.parametrize("malo", [*INVALID_MALO, "asdasd", "", "           ", "0123456789"])
def test_given_an_invalid_malo_id_then_it_fails(malo: str) -> None:
    assert not ids.has_valid_malo_check_digit(malo)


def test_seed_malo_ids_have_the_documented_expected_check_digit() -> None:
    # The brief says the expected check digit of both seed IDs is 5.
    assert ids.weighted_check_digit([int(c) for c in "5075449600"]) == 5
    assert ids.weighted_check_digit([int(c) for c in "5275449622"]) == 5


@pytest.mark.parametrize("code", ["9900683000008", "9979052000006", "9904000000005", "9900936000002", "9903526000002"])
def test_given_a_valid_bdew_code_then_it_passes(code: str) -> None:
    assert ids.has_valid_mp_id_check_digit(code, "BDEW")


@pytest.mark.parametrize("gln", ["4029566000015", "4033872000041"])
def test_given_a_valid_gln_then_it_passes_under_gs1_only(gln: str) -> None:
    assert ids.has_valid_mp_id_check_digit(gln, "GS1")
    assert ids.has_valid_mp_id_check_digit(gln, "GLN")


def test_given_a_wrong_last_digit_then_mp_ids_fail() -> None:
    assert not ids.has_valid_mp_id_check_digit("9900683000009", "BDEW")
    assert not ids.has_valid_mp_id_check_digit("4029566000016", "GS1")
    assert not ids.has_valid_mp_id_check_digit("99006830000", "BDEW")


@pytest.mark.parametrize("value", ["E1688117482", "D417MLM8164", "C816417ST77"])
def test_given_valid_nelo_tr_sr_ids_then_the_ascii_procedure_passes(value: str) -> None:
    assert ids.has_valid_resource_check_digit(value)


@pytest.mark.parametrize("value", ["E1688110018", "C81641SBT77", "E168811748", "X1688117482"])
def test_given_invalid_nelo_sr_ids_then_they_fail(value: str) -> None:
    assert not ids.has_valid_resource_check_digit(value)


@pytest.mark.parametrize(
    ("value", "typ", "fits"),
    [
        ("50754496000", "MALO", True),
        ("E1688117482", "MALO", False),
        ("E1688117482", "NELO", True),
        ("50754496000", "NELO", False),
        ("DE0009697056900614312080040415222", "MELO", True),
        ("DE000969705690061431208004041522", "MELO", False),
        ("de0009697056900614312080040415222", "MELO", False),
        ("D417MLM8164", "TECHNISCHE_RESSOURCE", True),
        ("C816417ST77", "STEUERBARE_RESSOURCE", True),
        ("C816417ST77", "TECHNISCHE_RESSOURCE", False),
        ("05075449600", "MALO", False),
    ],
)
def test_lokations_id_must_fit_its_type(value: str, typ: str, fits: bool) -> None:
    assert ids.fits_lokationstyp(value, typ) is fits
