"""Every rule of the START_BERECHNUNGSFORMEL trigger (PI 25001, AHB FV2604), one row each: the published example it
starts from, the RFC 6902 change that breaks the rule, and where and how the mock must refuse it.

The same rows are the rule table in docs/MACO_RULES.md, and each has a refusal scenario in scenarios/maco (checked
below); `pruefstand replay scenarios/maco` runs those over HTTP or in-process.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml
from starlette.testclient import TestClient

from pruefstand.mock_server.commands.api_specs import request_example

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios" / "maco"
TABLE = ROOT / "docs" / "MACO_RULES.md"
NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
F0 = "/stammdaten/BERECHNUNGSFORMEL/0"
P0 = "/stammdaten/VERWENDUNGSZEITRAUM/0"
TD = "/transaktionsdaten"
SEND = f"{TD}/absender"
STEPS = f"{F0}/rechenschritte"


@dataclass(frozen=True)
class Rule:
    slug: str
    ahb: str  # the AHB condition (or segment) the rule comes from
    what: str  # the rule in words
    example: str
    patch: list[dict[str, Any]]
    path: str  # the JSON path the refusal names
    says: str  # text the refusal contains
    layer: str = "PI 25001 rules"
    scenario: str = ""  # an older scenario that covers the rule (default: refused_<slug>.yaml)
    extra: list[str] = field(default_factory=list)

    @property
    def scenario_file(self) -> str:
        return self.scenario or f"refused_{self.slug.replace('-', '_')}.yaml"


def op(kind: str, path: str, value: Any = None) -> dict[str, Any]:
    return {"op": kind, "path": path} if kind == "remove" else {"op": kind, "path": path, "value": value}


MELO = "DE0009697056900614312080040415222"
RULES: tuple[Rule, ...] = (
    # participants: AHB NAD+MS / NAD+MR, condition [1] "Nur MP-ID aus Sparte Strom", PI 25001 directions
    Rule("sparte-strom", "[1]", "the trigger is for Sparte STROM", "Z41_Marktlokation",
         [op("replace", f"{TD}/sparte", "GAS")], "$.transaktionsdaten.sparte", "STROM", "event schema"),
    Rule("sender-code-list", "[1], NAD 3055",
         "the sender's MP-ID is from the BDEW (293) or GS1 (9) code list, not DVGW",
         "Z41_Marktlokation", [op("replace", f"{SEND}/rollencodetyp", "DVGW")],
         "$.transaktionsdaten.absender.rollencodetyp", "must be BDEW or GS1"),
    Rule("receiver-code-list", "[1], NAD 3055", "the receiver's MP-ID is from the BDEW or GS1 code list, not DVGW",
         "Z41_Marktlokation", [op("replace", f"{TD}/empfaenger/rollencodetyp", "DVGW")],
         "$.transaktionsdaten.empfaenger.rollencodetyp", "must be BDEW or GS1"),
    Rule("sender-strom-mp-id", "[1]", "a BDEW sender code is one of Sparte Strom (99…), not gas (98…)",
         "Z41_Marktlokation", [op("replace", f"{SEND}/rollencodenummer", "9800683000008")],
         "$.transaktionsdaten.absender.rollencodenummer", "is a gas MP-ID"),
    Rule("receiver-strom-mp-id", "[1]", "a BDEW receiver code is one of Sparte Strom (99…), not gas (98…)",
         "Z41_Marktlokation", [op("replace", f"{TD}/empfaenger/rollencodenummer", "9879052000006")],
         "$.transaktionsdaten.empfaenger.rollencodenummer", "is a gas MP-ID"),
    Rule("mp-id-format", "NAD 3039", "an MP-ID has 13 digits", "Z41_Marktlokation",
         [op("replace", f"{SEND}/rollencodenummer", "99006830")], "$.transaktionsdaten.absender.rollencodenummer",
         "does not match", "event schema"),
    Rule("sender-role", "direction NB → MSB, NB → LF, NBA → NBN", "the sender is the grid operator (NB)",
         "Z41_Marktlokation", [op("replace", f"{SEND}/marktrolle", "LF")], "$.transaktionsdaten.absender.marktrolle",
         "is not one of ['NB']", "event schema"),
    Rule("receiver-role", "direction NB → MSB, NB → LF, NBA → NBN", "the receiver is an MSB, a supplier (LF) or an NB",
         "Z41_Marktlokation", [op("replace", f"{TD}/empfaenger/marktrolle", "UENB")],
         "$.transaktionsdaten.empfaenger.marktrolle", "is not one of", "event schema"),
    # the location: LOC+172
    Rule("location-malo-or-nelo", "[950] ⊻ [960]",
         "the formula is sent for a Marktlokation or Netzlokation, not a MeLo",
         "Z40_Netzlokation", [op("replace", f"{TD}/lokationsTyp", "MELO"), op("replace", f"{TD}/lokationsId", MELO)],
         "$.transaktionsdaten.lokationsTyp", "must be MALO or NELO, not MELO"),
    Rule("location-not-a-tranche", "[950] ⊻ [960]", "a Tranche is no location of PI 25001", "Z40_Netzlokation",
         [op("replace", f"{TD}/lokationsTyp", "TRANCHE"), op("replace", f"{TD}/lokationsId", "50754496000")],
         "$.transaktionsdaten.lokationsTyp", "must be MALO or NELO, not TRANCHE"),
    Rule("malo-id-format", "[950]", "a MALO's lokationsId has the MaLo-ID format (11 digits)", "Z41_Marktlokation",
         [op("replace", f"{TD}/lokationsId", "E1688117482")], "$.transaktionsdaten.lokationsId", "MALO", "identifiers"),
    Rule("nelo-id-format", "[960]", "a NELO's lokationsId has the NeLo-ID format (E + 10)", "Z40_Netzlokation",
         [op("replace", f"{TD}/lokationsId", "50754496000")], "$.transaktionsdaten.lokationsId", "NELO", "identifiers"),
    # status of the formula: STS+Z23
    Rule("notwendigkeit-known", "STS 4405", "notwendigkeit is Z33, Z34, Z40 or Z41", "Z41_Marktlokation",
         [op("replace", f"{F0}/notwendigkeit", "UNBEKANNT")], "$.stammdaten.BERECHNUNGSFORMEL[0].notwendigkeit",
         "is not one of", "event schema"),
    Rule("z41-malo-only", "[3P]: [25]", "Z41 (no formula required) only for a Marktlokation", "Z41_Marktlokation",
         [op("replace", f"{TD}/lokationsId", "E1688117482"), op("replace", f"{TD}/lokationsTyp", "NELO")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].notwendigkeit", "allowed for lokationsTyp MALO only",
         scenario="refused_z41_not_malo.yaml"),
    # contact: SG3 CTA/COM
    Rule("z34-contact", "[2]", "Z34 needs the sender's contact (ansprechpartner)", "Z34_Marktlokation",
         [op("remove", f"{SEND}/ansprechpartner")], "$.transaktionsdaten.absender.ansprechpartner", "[2]",
         scenario="refused_z34_without_contact.yaml"),
    Rule("z34-contact-reachable", "[2], COM", "the Z34 contact has an e-mail address or a phone number (COM is Muss)",
         "Z34_Marktlokation", [op("remove", f"{SEND}/ansprechpartner/eMailAdresse")],
         "$.transaktionsdaten.absender.ansprechpartner.eMailAdresse", "needs a way to reach it"),
    Rule("email-format", "[939]", "an e-mail address contains '@' and '.'", "Z34_Marktlokation",
         [op("replace", f"{SEND}/ansprechpartner/eMailAdresse", "m.mustermann-at-email")],
         "$.transaktionsdaten.absender.ansprechpartner.eMailAdresse", "[939]",
         scenario="refused_z34_invalid_email.yaml"),
    Rule("phone-format-contact", "[940]", "a phone number of the contact is '+' and digits only", "Z34_Marktlokation",
         [op("add", f"{SEND}/ansprechpartner/rufnummern", [{"nummerntyp": "RUF_ZENTRALE", "rufnummer": "0221 12345"}])],
         "$.transaktionsdaten.absender.ansprechpartner.rufnummern[0].rufnummer", "[940]"),
    Rule("phone-format-sender", "[940]",
         "a phone number beside the contact (where the published page puts it, as an object) is '+' and digits",
         "Z34_Marktlokation",
         [op("add", f"{SEND}/rufnummern", [{"nummerntyp": "RUF_DURCHWAHL", "rufnummer": {"rufnummer": "0221-12345"}}])],
         "$.transaktionsdaten.absender.rufnummern[0].rufnummer", "[940]"),
    # usage periods: SG6 RFF+Z49/Z53 with DTM+Z25/Z26
    Rule("period-numbering", "[55]", "zeitraumId is 1, 2, 3 … in order of the periods", "Z41_Marktlokation",
         [op("replace", f"{P0}/zeitraumId", 2), op("replace", f"{F0}/gueltigkeitszeitraum/zeitraumId", 2)],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].zeitraumId", "[55]"),
    Rule("period-end-before-next", "[58]", "verwendungBis is given when a period with a higher id follows",
         "Z41_Marktlokation", [op("add", "/stammdaten/VERWENDUNGSZEITRAUM/-", {
             "zeitraumId": 2, "datenqualitaet": "KEINE_DATEN", "verwendungAb": "2025-03-31T22:00:00Z"})],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungBis", "[58]"),
    Rule("periods-join-up", "[57]", "a later period starts where the one before ends", "Z41_Marktlokation",
         [op("add", f"{P0}/verwendungBis", "2025-03-31T22:00:00Z"), op("add", "/stammdaten/VERWENDUNGSZEITRAUM/-", {
             "zeitraumId": 2, "datenqualitaet": "KEINE_DATEN", "verwendungAb": "2025-04-30T22:00:00Z"})],
         "$.stammdaten.VERWENDUNGSZEITRAUM[1].verwendungAb", "[57]"),
    Rule("period-start-german-midnight", "[UB1]: [932]/[933]", "verwendungAb is 0:00 German time", "Z41_Marktlokation",
         [op("replace", f"{P0}/verwendungAb", "2025-03-01T00:00:00Z")],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungAb", "[UB1]"),
    Rule("period-end-german-midnight", "[UB1]: [932]/[933]", "verwendungBis is 0:00 German time", "Z41_Marktlokation",
         [op("add", f"{P0}/verwendungBis", "2025-03-31T12:00:00Z")],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungBis", "[UB1]"),
    Rule("period-times-in-utc", "[UB1]: [931]", "period times are written in UTC (+00)", "Z41_Marktlokation",
         [op("replace", f"{P0}/verwendungAb", "2025-03-01T00:00:00+01:00")],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungAb", "[931]"),
    Rule("period-one-starts-by-next-day", "[56]",
         "period 1 starts on the day after the message date at the latest", "Z41_Marktlokation",
         [op("replace", f"{P0}/verwendungAb", "2099-12-31T23:00:00Z")],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].verwendungAb", "[56]"),
    # formulas per period: STS 9013, [2004]
    Rule("one-formula-per-period", "[2004]", "exactly one formula per period with GUELTIGE_DATEN", "Z41_Marktlokation",
         [op("add", "/stammdaten/BERECHNUNGSFORMEL/-", {"gueltigkeitszeitraum": {
             "zeitraumId": 1, "startdatum": "2025-02-28T23:00:00Z"}, "notwendigkeit": "BERECHNUNGSFORMEL_TRIVIAL"})],
         "$.stammdaten.BERECHNUNGSFORMEL", "[2004]", scenario="refused_two_formulas_for_one_period.yaml"),
    Rule("formula-names-a-valid-period", "[2004]", "a formula's zeitraumId names a period with GUELTIGE_DATEN",
         "Z41_Marktlokation", [op("replace", f"{F0}/gueltigkeitszeitraum/zeitraumId", 3)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].gueltigkeitszeitraum.zeitraumId", "matches no VERWENDUNGSZEITRAUM",
         scenario="refused_formula_period_mismatch.yaml"),
    # calculation steps of Z33: SG8 SEQ+Z36 / SEQ+Z37
    Rule("z33-root-step", "[2007]", "Z33 has its root step (rechenschrittId, SEQ+Z36)", "Z33_Marktlokation_Addition",
         [op("remove", f"{F0}/rechenschrittId")], "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschrittId", "[2007]"),
    Rule("z33-parts", "[2006]", "Z33 has at least one part (rechenschritte, SEQ+Z37)", "Z33_Marktlokation_Addition",
         [op("remove", STEPS)], "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte", "[2006]"),
    Rule("only-z33-carries-steps", "[2006]/[2007]", "Z34, Z40 and Z41 carry no steps", "Z40_Netzlokation",
         [op("add", f"{F0}/rechenschrittId", 1)], "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschrittId",
         "only Z33 carries steps", scenario="refused_z40_with_steps.yaml"),
    Rule("root-step-is-a-part", "[8]", "rechenschrittId names a step (rechenschrittBestandteilId) of the formula",
         "Z33_Marktlokation_Addition", [op("replace", f"{F0}/rechenschrittId", 2)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschrittId", "[8]"),
    Rule("melo-or-step", "[5]/[6]", "each part references a Messlokation or another step, exactly one of them",
         "Z33_Marktlokation_Addition", [op("remove", f"{STEPS}/0/messlokationsId")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0]", "[5]/[6]",
         scenario="refused_z33_step_without_reference.yaml"),
    Rule("reference-names-a-part", "[8]", "referenzRechenschrittId names a step of the same formula",
         "Z33_Marktlokation_Addition",
         [op("remove", f"{STEPS}/1/messlokationsId"), op("remove", f"{STEPS}/1/energieflussrichtung"),
          op("add", f"{STEPS}/1/referenzRechenschrittId", 5)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[1].referenzRechenschrittId", "[8]"),
    Rule("no-self-reference", "[9]", "a part does not reference its own step", "Z33_Marktlokation_Addition",
         [op("remove", f"{STEPS}/1/messlokationsId"), op("remove", f"{STEPS}/1/energieflussrichtung"),
          op("add", f"{STEPS}/1/referenzRechenschrittId", 1)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[1].referenzRechenschrittId", "[9]"),
    Rule("melo-id-format", "[951]", "messlokationsId is a Zählpunktbezeichnung (33 characters)",
         "Z33_Marktlokation_Addition", [op("replace", f"{STEPS}/0/messlokationsId", "DE000969705")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].messlokationsId", "does not match", "event schema"),
    Rule("energy-direction-with-melo", "[7]", "a part with a Messlokation has energieflussrichtung",
         "Z33_Marktlokation_Addition", [op("remove", f"{STEPS}/0/energieflussrichtung")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].energieflussrichtung", "[7]"),
    # operators: SG9 CAV
    Rule("add-sub-only-with-add-sub", "[11]", "ADDITION/SUBTRAKTION parts of a step use only ADDITION/SUBTRAKTION",
         "Z33_Marktlokation_Addition", [op("replace", f"{STEPS}/1/operation", "MULTIPLIKATION")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte", "[11]"),
    Rule("positivwert-alone", "[12]", "POSITIVWERT stands alone under its step id", "Z33_Marktlokation_Addition",
         [op("replace", f"{STEPS}/0/operation", "POSITIVWERT"), op("replace", f"{STEPS}/1/operation", "POSITIVWERT")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte", "[12]"),
    Rule("division-pair", "[13]", "DIVISION and DIVIDEND come as exactly one pair", "Z33_Marktlokation_Addition",
         [op("replace", f"{STEPS}/0/operation", "DIVISION"), op("replace", f"{STEPS}/1/operation", "DIVISION")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte", "[13]"),
    Rule("faktor-only-with-faktor", "[14]", "MULTIPLIKATION (Faktor) parts of a step use only MULTIPLIKATION",
         "Z33_Marktlokation_Addition",
         [op("replace", f"{STEPS}/0/operation", "MULTIPLIKATION"), op("replace", f"{STEPS}/1/operation", "DIVIDEND")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte", "[14]"),
    # factors: SG9 CAV 7110
    Rule("loss-factor-positive", "[914]", "a loss factor is greater than 0", "Z33_Marktlokation_Addition",
         [op("add", f"{STEPS}/0/verlustfaktorTrafo", 0)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].verlustfaktorTrafo", "minimum", "event schema"),
    Rule("loss-factor-not-one", "[915]", "a loss factor is not 1", "Z33_Marktlokation_Addition",
         [op("add", f"{STEPS}/0/verlustfaktorLeitung", 1)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].verlustfaktorLeitung", "[915]"),
    Rule("loss-factor-decimals", "[912]", "a loss factor has at most 6 decimals", "Z33_Marktlokation_Addition",
         [op("add", f"{STEPS}/0/verlustfaktorTrafo", 1.0000001)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].verlustfaktorTrafo", "[912]"),
    Rule("allocation-factor-at-most-one", "[969]", "the allocation factor is at most 1 (also as a decimal string)",
         "Z33_Marktlokation_Addition", [op("add", f"{STEPS}/0/aufteilungsfaktorEnergiemenge", "1.5")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].aufteilungsfaktorEnergiemenge", "[969]"),
    Rule("allocation-factor-positive", "[914]", "the allocation factor is greater than 0 (also as a decimal string)",
         "Z33_Marktlokation_Addition", [op("add", f"{STEPS}/0/aufteilungsfaktorEnergiemenge", "0")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].aufteilungsfaktorEnergiemenge", "[914]"),
    Rule("allocation-factor-decimals", "[912]", "the allocation factor has at most 6 decimals",
         "Z33_Marktlokation_Addition", [op("add", f"{STEPS}/0/aufteilungsfaktorEnergiemenge", 0.1234567)],
         "$.stammdaten.BERECHNUNGSFORMEL[0].rechenschritte[0].aufteilungsfaktorEnergiemenge", "[912]"),
    Rule("period-quality", "SG6 RFF+Z49/Z53", "a period has datenqualitaet GUELTIGE_DATEN or KEINE_DATEN",
         "Z41_Marktlokation", [op("replace", "/stammdaten/VERWENDUNGSZEITRAUM/0/datenqualitaet", "INFORMATIVE_DATEN")],
         "$.stammdaten.VERWENDUNGSZEITRAUM[0].datenqualitaet", "(AHB 25001 SG6)"),
    Rule("bo-meta", "BO4E (domain/maco.md §10)", "every business object carries boTyp and versionStruktur",
         "Z41_Marktlokation", [op("remove", "/stammdaten/BERECHNUNGSFORMEL/0/versionStruktur")],
         "$.stammdaten.BERECHNUNGSFORMEL[0].versionStruktur", "is required on every business object"),
)  # fmt: skip


def broken(rule: Rule) -> dict[str, Any]:
    patched: dict[str, Any] = jsonpatch.apply_patch(
        request_example("maco", "inbound", rule.example), copy.deepcopy(rule.patch)
    )
    return patched


@pytest.mark.parametrize("rule", RULES, ids=[r.slug for r in RULES])
def test_rule_is_refused_naming_the_field_and_the_rule(
    rule: Rule, client: TestClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    client.put("/_admin/sandboxes/default/clock", headers=admin, json={"now": NOW.isoformat(), "frozen": True})
    answer = client.post("/maco/inbound", json=broken(rule), headers=auth)
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    problems = [p for p in message.removeprefix("Validation Failed: ").split("; ") if p.startswith(f"{rule.path}: ")]
    assert problems, message  # the field is named at the start of a problem
    assert any(rule.says in p for p in problems), message  # and that problem says what was expected
    assert client.get("/_admin/sandboxes/default/maco/processes", headers=admin).json() == []


def test_the_published_examples_break_no_rule(client: TestClient, auth: dict[str, str]) -> None:
    for number, name in enumerate(("Z41_Marktlokation", "Z40_Netzlokation", "Z34_Marktlokation",
                                   "Z33_Marktlokation_Addition")):  # fmt: skip
        body = request_example("maco", "inbound", name)
        body["zusatzdaten"]["prozessId"] = f"00505688-E4A2-1EDF-A0C2-C81842E2515{number}"  # they all share one
        answer = client.post("/maco/inbound", json=body, headers=auth)
        assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "factor", [0.5, "0.5", "1", "0.000001", 1], ids=["number", "string", "string-one", "six-decimals", "one"]
)
def test_the_allocation_factor_may_be_a_number_or_a_decimal_string(
    factor: Any, client: TestClient, auth: dict[str, str]
) -> None:
    body = request_example("maco", "inbound", "Z33_Marktlokation_Addition")
    body["stammdaten"]["BERECHNUNGSFORMEL"][0]["rechenschritte"][0]["aufteilungsfaktorEnergiemenge"] = factor
    assert client.post("/maco/inbound", json=body, headers=auth).status_code == 201


def test_a_phone_number_object_with_a_valid_number_is_taken(client: TestClient, auth: dict[str, str]) -> None:
    body = request_example("maco", "inbound", "Z34_Marktlokation")
    body["transaktionsdaten"]["absender"]["rufnummern"] = [{"nummerntyp": "RUF_ZENTRALE",
                                                            "rufnummer": {"rufnummer": "+4922112345"}}]  # fmt: skip
    assert client.post("/maco/inbound", json=body, headers=auth).status_code == 201


def test_a_period_may_start_on_the_day_after_the_message_date(
    client: TestClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    client.put("/_admin/sandboxes/default/clock", headers=admin, json={"now": "2026-03-28T15:00:00Z", "frozen": True})
    body = request_example("maco", "inbound", "Z41_Marktlokation")
    period = body["stammdaten"]["VERWENDUNGSZEITRAUM"][0]
    period["verwendungAb"] = "2026-03-28T23:00:00Z"  # 29 March 0:00 CET: the next day
    assert client.post("/maco/inbound", json=body, headers=auth).status_code == 201
    body["zusatzdaten"]["prozessId"] = "00505688-E4A2-1EDF-A0C2-C81842E25160"
    period["verwendungAb"] = "2026-03-29T22:00:00Z"  # 30 March 0:00 CEST: two days on
    answer = client.post("/maco/inbound", json=body, headers=auth)
    assert answer.status_code == 400
    assert "[56]" in answer.json()["message"]


def table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.fullmatch(r"`[a-z0-9-]+`", cells[0]):
            rows[cells[0].strip("`")] = cells
    return rows


def test_the_rule_table_lists_every_rule_with_its_test_and_scenario() -> None:
    rows = table_rows()
    assert list(rows) == [r.slug for r in RULES]
    for rule in RULES:
        row = rows[rule.slug]
        assert f"test_rule_is_refused_naming_the_field_and_the_rule[{rule.slug}]" in " ".join(row), rule.slug
        assert rule.scenario_file in " ".join(row), rule.slug


@pytest.mark.parametrize("rule", RULES, ids=[r.slug for r in RULES])
def test_each_rule_has_a_refusal_scenario_that_expects_the_refusal(rule: Rule) -> None:
    scenario = yaml.safe_load((SCENARIOS / rule.scenario_file).read_text(encoding="utf-8"))
    first = scenario["steps"][0]["request"]
    assert first["expect"]["status"] == 400
    assert first.get("request_valid", True) is (rule.layer != "event schema")  # the schema's refusals break it
    said = f"Validation Failed: {rule.path}: … {rule.says}"
    checks = first["expect"].get("jsonpath", {}).get("$.message", {})
    assert (rule.path in checks.get("contains", "")) or re.search(checks.get("matches", "^$"), said), rule.slug
