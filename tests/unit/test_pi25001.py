"""Each PI 25001 rule (domain/maco.md §3.3) and the role/identifier layers, as pure functions on payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pruefstand.contracts import DispatchingValidator, bundled_spec_path, load_spec
from pruefstand.mock_server.flows.maco.events import MacoEvent, catalog_from_validator
from pruefstand.mock_server.flows.maco.formula_rules import operator_problem
from pruefstand.mock_server.flows.maco.pi25001 import pi25001_violations
from pruefstand.mock_server.flows.maco.trigger_rules import derive_pruefidentifikator, trigger_violations

Payload = dict[str, Any]


@pytest.fixture(scope="module")
def catalog() -> dict[str, MacoEvent]:
    spec = load_spec(bundled_spec_path("maco/trigger.yaml"))
    schema = spec.operation("inbound")["requestBody"]["content"]["application/json"]["schema"]
    return catalog_from_validator(DispatchingValidator(schema))


def paths(violations: list[Any]) -> list[str]:
    return [v.path for v in violations]


def formula(payload: Payload, index: int = 0) -> Payload:
    return payload["stammdaten"]["BERECHNUNGSFORMEL"][index]  # type: ignore[no-any-return]


def test_given_the_four_seed_examples_then_no_rule_is_broken(
    catalog: dict[str, MacoEvent], seed_examples: dict[str, Payload]
) -> None:
    for payload in seed_examples.values():
        assert trigger_violations(catalog["START_BERECHNUNGSFORMEL"], payload, strict_check_digits=False) == []


def test_given_strict_check_digits_then_the_seed_malo_ids_are_refused(
    catalog: dict[str, MacoEvent], example: Callable[[str], Payload]
) -> None:
    found = trigger_violations(
        catalog["START_BERECHNUNGSFORMEL"], example("Z41_Marktlokation"), strict_check_digits=True
    )
    assert paths(found) == ["$.transaktionsdaten.lokationsId"]
    assert "check digit" in found[0].message
    assert "expected 5" in found[0].message


def test_z41_only_for_malo(example: Callable[[str], Payload]) -> None:
    payload = example("Z41_Marktlokation")
    payload["transaktionsdaten"].update(lokationsId="E1688117482", lokationsTyp="NELO")
    found = pi25001_violations(payload)
    assert paths(found) == ["$.stammdaten.BERECHNUNGSFORMEL[0].notwendigkeit"]
    assert "MALO only" in found[0].message
    assert "NELO" in found[0].message


def test_z34_requires_a_contact(example: Callable[[str], Payload]) -> None:
    payload = example("Z34_Marktlokation")
    del payload["transaktionsdaten"]["absender"]["ansprechpartner"]
    found = pi25001_violations(payload)
    assert paths(found) == ["$.transaktionsdaten.absender.ansprechpartner"]
    assert "BERECHNUNGSFORMEL_MUSS_ANGEFRAGT_WERDEN" in found[0].message


@pytest.mark.parametrize("email", [None, "m.mustermann", "m@localhost", "@email.de", "a b@email.de"])
def test_z34_requires_a_valid_email(example: Callable[[str], Payload], email: str | None) -> None:
    payload = example("Z34_Marktlokation")
    contact = payload["transaktionsdaten"]["absender"]["ansprechpartner"]
    contact.pop("eMailAdresse")
    if email is not None:
        contact["eMailAdresse"] = email
    assert paths(pi25001_violations(payload)) == ["$.transaktionsdaten.absender.ansprechpartner.eMailAdresse"]


def test_z34_phone_numbers_are_plus_and_digits(example: Callable[[str], Payload]) -> None:
    payload = example("Z34_Marktlokation")
    payload["transaktionsdaten"]["absender"]["ansprechpartner"]["rufnummern"] = [
        {"nummerntyp": "RUF_ZENTRALE", "rufnummer": "+4930123456"},
        {"nummerntyp": "RUF_ZENTRALE", "rufnummer": "030 123456"},
    ]
    assert paths(pi25001_violations(payload)) == [
        "$.transaktionsdaten.absender.ansprechpartner.rufnummern[1].rufnummer"
    ]


def test_z33_requires_root_step_and_steps(example: Callable[[str], Payload]) -> None:
    payload = example("Z33_Marktlokation_Addition")
    del formula(payload)["rechenschrittId"]
    del formula(payload)["rechenschritte"]
    assert paths(pi25001_violations(payload)) == [
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschrittId",
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte",
    ]


def test_z33_each_step_references_a_melo_or_another_step(example: Callable[[str], Payload]) -> None:
    payload = example("Z33_Marktlokation_Addition")
    steps = formula(payload)["rechenschritte"]
    del steps[0]["messlokationsId"]
    steps[1]["referenzRechenschrittId"] = 7
    found = pi25001_violations(payload)
    assert paths(found) == [
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0]",
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[1]",
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[1].referenzRechenschrittId",  # 7 names no step: [8]
    ]
    assert all("exactly one of messlokationsId or referenzRechenschrittId" in v.message for v in found[:2])
    assert "(AHB 25001 [8])" in found[2].message


def test_z33_a_step_may_not_reference_its_own_step(example: Callable[[str], Payload]) -> None:
    payload = example("Z33_Marktlokation_Addition")
    step = formula(payload)["rechenschritte"][0]
    del step["messlokationsId"]
    del step["energieflussrichtung"]
    step["referenzRechenschrittId"] = formula(payload)["rechenschrittId"]
    assert paths(pi25001_violations(payload)) == [
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].referenzRechenschrittId"
    ]


def test_z33_melo_reference_needs_energy_direction(example: Callable[[str], Payload]) -> None:
    payload = example("Z33_Marktlokation_Addition")
    del formula(payload)["rechenschritte"][1]["energieflussrichtung"]
    assert paths(pi25001_violations(payload)) == [
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[1].energieflussrichtung"
    ]


@pytest.mark.parametrize(
    ("operations", "problem"),
    [
        (["ADDITION", "SUBTRAKTION", "ADDITION"], None),
        (["ADDITION", "MULTIPLIKATION"], "[11]"),
        (["POSITIVWERT"], None),
        (["POSITIVWERT", "POSITIVWERT"], "[12]"),
        (["DIVISION", "DIVIDEND"], None),
        (["DIVISION"], "[13]"),
        (["DIVISION", "DIVIDEND", "DIVIDEND"], "[13]"),
        (["MULTIPLIKATION", "MULTIPLIKATION"], None),
        (["MULTIPLIKATION", "DIVISION"], "[14]"),  # each operator's own rule, in order of appearance
        (["DIVISION", "MULTIPLIKATION"], "[13]"),
        (["POSITIVWERT", "ADDITION"], "[12]"),
    ],
)
def test_operator_combinations(operations: list[str], problem: str | None) -> None:
    found = operator_problem(operations)
    assert (found is None) if problem is None else (problem in str(found))


@pytest.mark.parametrize("name", ["Z34_Marktlokation", "Z40_Netzlokation", "Z41_Marktlokation"])
def test_z34_z40_z41_carry_no_steps(example: Callable[[str], Payload], name: str) -> None:
    payload = example(name)
    formula(payload)["rechenschrittId"] = 1
    formula(payload)["rechenschritte"] = [{"rechenschrittBestandteilId": 1, "operation": "ADDITION"}]
    found = pi25001_violations(payload)
    assert paths(found) == [
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschrittId",
        "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte",
    ]
    assert "only Z33 carries steps" in found[0].message


def test_one_formula_per_valid_period(example: Callable[[str], Payload]) -> None:
    payload = example("Z41_Marktlokation")
    payload["stammdaten"]["BERECHNUNGSFORMEL"].append(formula(payload).copy())
    found = pi25001_violations(payload)
    assert paths(found) == ["$.stammdaten.BERECHNUNGSFORMEL"]
    assert "exactly one formula" in found[0].message
    assert "found 2" in found[0].message


def test_formula_period_must_match_a_valid_period(example: Callable[[str], Payload]) -> None:
    payload = example("Z41_Marktlokation")
    formula(payload)["gueltigkeitszeitraum"]["zeitraumId"] = 2
    assert paths(pi25001_violations(payload)) == [
        "$.stammdaten.BERECHNUNGSFORMEL",
        "$.stammdaten.BERECHNUNGSFORMEL[0].gueltigkeitszeitraum.zeitraumId",
    ]


def test_periods_are_numbered_in_order_and_closed_before_the_next(example: Callable[[str], Payload]) -> None:
    payload = example("Z41_Marktlokation")
    periods = payload["stammdaten"]["VERWENDUNGSZEITRAUM"]
    periods.append({**periods[0], "zeitraumId": 3, "datenqualitaet": "KEINE_DATEN"})
    assert paths(pi25001_violations(payload)) == [
        "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungBis",
        "$.stammdaten.VERWENDUNGSZEITRAUM[1].zeitraumId",
    ]


def test_sender_and_receiver_roles(catalog: dict[str, MacoEvent], example: Callable[[str], Payload]) -> None:
    payload = example("Z41_Marktlokation")
    payload["transaktionsdaten"]["absender"]["marktrolle"] = "LF"
    payload["transaktionsdaten"]["empfaenger"]["marktrolle"] = "UENB"
    payload["transaktionsdaten"]["sparte"] = "GAS"
    found = trigger_violations(catalog["START_BERECHNUNGSFORMEL"], payload, strict_check_digits=False)
    assert paths(found) == [
        "$.transaktionsdaten.absender.marktrolle",
        "$.transaktionsdaten.empfaenger.marktrolle",
        "$.transaktionsdaten.sparte",
    ]


def test_pruefidentifikator_is_derived_not_taken(
    catalog: dict[str, MacoEvent], example: Callable[[str], Payload]
) -> None:
    payload = example("Z41_Marktlokation")
    payload["transaktionsdaten"]["pruefidentifikator"] = "99999"
    assert derive_pruefidentifikator(catalog["START_BERECHNUNGSFORMEL"], payload) == "25001"
    ende = catalog["START_ENDE_ZUORDNUNG"]
    assert derive_pruefidentifikator(ende, {"transaktionsdaten": {"empfaenger": {"marktrolle": "MSB"}}}) == "55611"
    assert derive_pruefidentifikator(ende, {"transaktionsdaten": {"empfaenger": {"marktrolle": "LF"}}}) == "55037"
    beginn = catalog["START_LIEFERBEGINN"]
    assert derive_pruefidentifikator(beginn, {"transaktionsdaten": {"sparte": "GAS"}}) == "44001"
    assert derive_pruefidentifikator(beginn, {"transaktionsdaten": {"sparte": "STROM"}}) == "55001"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_a_period_at_the_edge_of_the_calendar_is_named_not_a_crash(value: str) -> None:
    from datetime import UTC, datetime

    from pruefstand.mock_server.flows.maco.pi25001 import period_date_violations

    found = period_date_violations([{"zeitraumId": 1, "verwendungAb": value}], now=datetime(2026, 1, 1, tzinfo=UTC))
    assert [v.path for v in found] == ["$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungAb"] * 2
    assert found[1].message == f"{value!r} lies outside the years 1 to 9999 in German time"


def test_a_period_is_gueltige_or_keine_daten_only(example: Callable[[str], Payload]) -> None:
    """AHB 25001 SG6: RFF+Z49 (GUELTIGE_DATEN) or RFF+Z53 (KEINE_DATEN); a second period with INFORMATIVE_DATEN and
    no formula is refused."""
    payload = example("Z41_Marktlokation")
    periods = payload["stammdaten"]["VERWENDUNGSZEITRAUM"]
    periods[0]["verwendungBis"] = "2026-06-30T22:00:00Z"
    periods.append({**periods[0], "zeitraumId": 2, "datenqualitaet": "INFORMATIVE_DATEN",
                    "verwendungAb": "2026-06-30T22:00:00Z"})  # fmt: skip
    periods[1].pop("verwendungBis")
    found = pi25001_violations(payload)
    assert "$.stammdaten.VERWENDUNGSZEITRAUM[1].datenqualitaet" in paths(found)
    assert "GUELTIGE_DATEN (RFF+Z49) or KEINE_DATEN (RFF+Z53)" in str(found)
    periods[1]["datenqualitaet"] = "KEINE_DATEN"
    assert "$.stammdaten.VERWENDUNGSZEITRAUM[1].datenqualitaet" not in paths(pi25001_violations(payload))


@pytest.mark.parametrize(
    ("where", "key"),
    [("BERECHNUNGSFORMEL", "boTyp"), ("BERECHNUNGSFORMEL", "versionStruktur"), ("VERWENDUNGSZEITRAUM", "boTyp"),
     ("VERWENDUNGSZEITRAUM", "versionStruktur")],
)  # fmt: skip
def test_every_business_object_carries_botyp_and_versionstruktur(
    example: Callable[[str], Payload], where: str, key: str
) -> None:
    payload = example("Z41_Marktlokation")
    del payload["stammdaten"][where][0][key]
    found = pi25001_violations(payload)
    assert paths(found) == [f"$.stammdaten.{where}[0].{key}"]
    contact = example("Z34_Marktlokation")
    del contact["transaktionsdaten"]["absender"]["ansprechpartner"]["versionStruktur"]
    assert "$.transaktionsdaten.absender.ansprechpartner.versionStruktur" in paths(pi25001_violations(contact))
