"""The MaCo trigger API through the whole app (connexion, validation, store), in-process on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import Services
from pruefstand.mock_server.flows.maco.records import PROCESS_KIND, TRIGGER_KIND
from pruefstand.mock_server.flows.maco.service import (
    idempotency_key,
    payload_digest,
    stable_digest,
)
from pruefstand.mock_server.kernel.settings import Settings
from tests.conftest import get_token, make_settings

Payload = dict[str, Any]
SEEDS = ["Z41_Marktlokation", "Z40_Netzlokation", "Z34_Marktlokation", "Z33_Marktlokation_Addition"]


def post(client: TestClient, body: Any, headers: dict[str, str]) -> Any:
    return client.post("/maco/inbound", json=body, headers=headers)


@pytest.mark.parametrize("name", SEEDS)
def test_given_a_seed_example_when_posted_then_201_with_a_new_business_key_and_the_process_stored(
    client: TestClient,
    auth: dict[str, str],
    example: Callable[[str], Payload],
    services: Services,
    admin: dict[str, str],
    name: str,
) -> None:
    response = post(client, example(name), auth)

    assert response.status_code == 201, response.text
    body = response.json()
    business_key = body["businessKey"]
    assert uuid.UUID(business_key).version == 7  # created keys sort by time (IdSource.record_key)
    assert body["message"].startswith(
        "received event START_BERECHNUNGSFORMEL with id 00505688-E4A2-1EDF-A0C2-C81842E2515E at "
    )
    assert body["message"].endswith(f"Z and started process with businessKey {business_key}")
    stored = services.store.get("default", PROCESS_KIND, business_key)
    assert stored is not None
    assert stored["pruefidentifikator"] == "25001"
    assert stored["status"] == "RECEIVED"
    assert stored["payload"] == example(name)
    by_key = client.get(f"/_admin/sandboxes/default/maco/processes/{business_key}", headers=admin)
    assert by_key.status_code == 200
    assert by_key.json()["prozessId"] == "00505688-E4A2-1EDF-A0C2-C81842E2515E"
    by_id = client.get(
        "/_admin/sandboxes/default/maco/processes",
        params={"prozessId": "00505688-E4A2-1EDF-A0C2-C81842E2515E"},
        headers=admin,
    )
    assert [p["businessKey"] for p in by_id.json()] == [business_key]


def test_the_message_carries_the_sandbox_clock_time(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], admin: dict[str, str]
) -> None:
    client.put("/_admin/sandboxes/default/clock", json={"now": "2025-03-01T08:30:00Z", "frozen": True}, headers=admin)
    response = post(client, example("Z41_Marktlokation"), auth)
    assert " at 2025-03-01T08:30:00Z and started process " in response.json()["message"]


def test_given_the_z34_example_without_contact_then_400_naming_the_path_and_nothing_stored(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], services: Services
) -> None:
    payload = example("Z34_Marktlokation")
    del payload["transaktionsdaten"]["absender"]["ansprechpartner"]

    response = post(client, payload, auth)

    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "400"
    assert body["message"].startswith("Validation Failed: $.transaktionsdaten.absender.ansprechpartner: is required")
    assert services.store.find("default", PROCESS_KIND) == []


def test_given_the_same_trigger_twice_then_the_same_answer_and_one_process(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], services: Services
) -> None:
    first = post(client, example("Z33_Marktlokation_Addition"), auth)
    reordered = dict(reversed(list(example("Z33_Marktlokation_Addition").items())))
    second = post(client, reordered, auth)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    [process] = services.store.find("default", PROCESS_KIND)
    # recognised by the digest the process keeps: no second record under a key made of the prozessId
    assert process["payloadDigest"] == payload_digest(example("Z33_Marktlokation_Addition"))
    assert services.store.count("default", TRIGGER_KIND) == 0


def test_given_a_reused_prozess_id_with_another_payload_then_409_and_nothing_started(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], services: Services
) -> None:
    first = post(client, example("Z41_Marktlokation"), auth).json()

    response = post(client, example("Z34_Marktlokation"), auth)

    assert response.status_code == 409
    assert response.json()["errorCode"] == "409"
    assert "prozessId '00505688-E4A2-1EDF-A0C2-C81842E2515E' was already used" in response.json()["message"]
    assert first["businessKey"] in response.json()["message"]
    assert [p["businessKey"] for p in services.store.find("default", PROCESS_KIND)] == [first["businessKey"]]


def test_given_another_sender_then_the_same_prozess_id_is_a_new_process(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload]
) -> None:
    payload = example("Z41_Marktlokation")
    first = post(client, payload, auth).json()
    payload["transaktionsdaten"]["absender"]["rollencodenummer"] = "9904000000005"
    second = post(client, payload, auth)
    assert second.status_code == 201
    assert second.json()["businessKey"] != first["businessKey"]


def test_given_payload_idempotency_then_seed_examples_sharing_a_prozess_id_all_start(
    example: Callable[[str], Payload],
) -> None:
    settings = make_settings(maco_idempotency="payload")
    from pruefstand.mock_server.app import create_app
    from pruefstand.mock_server.store import SQLiteStore

    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client, settings)}"}
        keys = {post(client, example(name), headers).json()["businessKey"] for name in SEEDS}
        again = post(client, example(SEEDS[0]), headers).json()["businessKey"]
    assert len(keys) == 4
    assert again in keys


def test_after_payload_idempotency_each_stored_payload_is_replayed_and_only_a_new_one_conflicts(
    example: Callable[[str], Payload],
) -> None:
    """Switched from `idempotency=payload` to conflict: a prozessId may already carry several processes; the one with
    the same payload answers, whichever was stored first."""
    from pruefstand.mock_server.app import create_app
    from pruefstand.mock_server.store import SQLiteStore

    store = SQLiteStore(":memory:")
    payload_mode = make_settings(maco_idempotency="payload")
    with create_app(payload_mode, store=store).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client, payload_mode)}"}
        first = post(client, example("Z41_Marktlokation"), headers).json()
        second = post(client, example("Z34_Marktlokation"), headers).json()
    conflict_mode = make_settings()
    with create_app(conflict_mode, store=store).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client, conflict_mode)}"}
        again = post(client, example("Z34_Marktlokation"), headers)
        other = post(client, example("Z33_Marktlokation_Addition"), headers)
    assert first["businessKey"] != second["businessKey"]
    assert again.status_code == 201
    assert again.json() == second
    assert other.status_code == 409
    assert first["businessKey"] in other.json()["message"]


def test_derived_pruefidentifikator_ignores_the_callers(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], services: Services
) -> None:
    payload = example("Z40_Netzlokation")
    payload["transaktionsdaten"]["pruefidentifikator"] = "55001"
    key = post(client, payload, auth).json()["businessKey"]
    stored = services.store.get("default", PROCESS_KIND, key)
    assert stored is not None
    assert stored["pruefidentifikator"] == "25001"


def lieferbeginn(sparte: str = "STROM") -> Payload:
    return {
        "transaktionsdaten": {
            "absender": {
                "boTyp": "MARKTTEILNEHMER",
                "versionStruktur": "1",
                "marktrolle": "LF",
                "rollencodenummer": "9979052000006",
                "rollencodetyp": "BDEW",
            },
            "empfaenger": {
                "boTyp": "MARKTTEILNEHMER",
                "versionStruktur": "1",
                "marktrolle": "NB",
                "rollencodenummer": "9900683000008",
                "rollencodetyp": "BDEW",
            },
            "kategorie": "E01",
            "sparte": sparte,
            "transaktionsgrund": "E01",
            "transaktionsgrundergaenzung": "ZW4",
            "vertragsbeginn": "2026-01-01T00:00:00Z",
            "lokationsId": "51238696781",
            "lokationsTyp": "MALO",
        },
        "zusatzdaten": {"prozessId": "LB-4711", "eventname": "START_LIEFERBEGINN"},
    }


@pytest.mark.parametrize(("sparte", "pi"), [("STROM", "55001"), ("GAS", "44001")])
def test_start_lieferbeginn_is_accepted_with_its_derived_pi(
    client: TestClient, auth: dict[str, str], services: Services, sparte: str, pi: str
) -> None:
    response = post(client, lieferbeginn(sparte), auth)
    assert response.status_code == 201, response.text
    stored = services.store.get("default", PROCESS_KIND, response.json()["businessKey"])
    assert stored is not None
    assert stored["pruefidentifikator"] == pi


def test_start_lieferbeginn_without_its_required_fields_names_the_field(
    client: TestClient, auth: dict[str, str]
) -> None:
    payload = lieferbeginn()
    del payload["transaktionsdaten"]["vertragsbeginn"]
    response = post(client, payload, auth)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Validation Failed: $.transaktionsdaten: 'vertragsbeginn' is a required property (required by the contract)"
    )


def test_start_ende_zuordnung_to_the_msb_is_pi_55611(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    payload = lieferbeginn()
    td = payload["transaktionsdaten"]
    td["absender"], td["empfaenger"] = td["empfaenger"], {**td["absender"], "marktrolle": "MSB"}
    for key in ("kategorie", "vertragsbeginn"):
        del td[key]
    payload["zusatzdaten"] = {"prozessId": "EZ-1", "eventname": "START_ENDE_ZUORDNUNG"}
    response = post(client, payload, auth)
    assert response.status_code == 201, response.text
    stored = services.store.get("default", PROCESS_KIND, response.json()["businessKey"])
    assert stored is not None
    assert stored["pruefidentifikator"] == "55611"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda p: p["zusatzdaten"].pop("prozessId"),
            "Validation Failed: $.zusatzdaten: 'prozessId' is a required property (required by the contract)",
        ),
        (
            lambda p: p["zusatzdaten"].update(eventname="START_NICHTS"),
            "Validation Failed: $.zusatzdaten.eventname: unknown value 'START_NICHTS'; expected one of: "
            "START_BERECHNUNGSFORMEL, START_ENDE_ZUORDNUNG, START_LIEFERBEGINN",
        ),
        (
            lambda p: p.pop("transaktionsdaten"),
            "Validation Failed: $: 'transaktionsdaten' is a required property (required by the contract)",
        ),
        (
            lambda p: p["transaktionsdaten"]["absender"].update(rollencodenummer="99006830"),
            "Validation Failed: $.transaktionsdaten.absender.rollencodenummer: '99006830' does not match '^[0-9]{13}$'",
        ),
        (
            lambda p: p["transaktionsdaten"].update(lokationsId="E1688117482"),
            "Validation Failed: $.transaktionsdaten.lokationsId: 'E1688117482' does not fit lokationsTyp MALO: "
            "expected 11 digits, the first 1-9 (MaLo-ID)",
        ),
        (
            lambda p: p["stammdaten"]["BERECHNUNGSFORMEL"][0].update(notwendigkeit="Z41"),
            "Validation Failed: $.stammdaten.BERECHNUNGSFORMEL[0].notwendigkeit: 'Z41' is not one of "
            "['BERECHNUNGSFORMEL_NOTWENDIG', 'BERECHNUNGSFORMEL_MUSS_ANGEFRAGT_WERDEN', 'BERECHNUNGSFORMEL_TRIVIAL', "
            "'BERECHNUNGSFORMEL_NICHT_NOTWENDIG']",
        ),
        (
            lambda p: p["transaktionsdaten"]["absender"].update(marktrolle="MSB"),
            "Validation Failed: $.transaktionsdaten.absender.marktrolle: 'MSB' is not one of ['NB']",
        ),
    ],
)
def test_each_validation_layer_answers_event_fail_naming_path_and_rule(
    client: TestClient,
    auth: dict[str, str],
    example: Callable[[str], Payload],
    services: Services,
    mutate: Callable[[Payload], Any],
    message: str,
) -> None:
    payload = example("Z41_Marktlokation")
    mutate(payload)
    response = post(client, payload, auth)
    assert response.status_code == 400
    assert response.json() == {"errorCode": "400", "message": message}
    assert services.store.find("default", PROCESS_KIND) == []


def test_strict_check_digits_refuse_the_seed_malo(example: Callable[[str], Payload]) -> None:
    settings = make_settings(maco_strict_check_digits=True)
    from pruefstand.mock_server.app import create_app
    from pruefstand.mock_server.store import SQLiteStore

    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client, settings)}"}
        refused = post(client, example("Z41_Marktlokation"), headers)
        accepted = post(client, example("Z40_Netzlokation"), headers)
    assert refused.status_code == 400
    assert "check digit of MALO ID 50754496000 is wrong: expected 5" in refused.json()["message"]
    assert accepted.status_code == 201


class TestToken:
    def test_token_answer_has_the_configured_lifetime(self, client: TestClient, settings: Settings) -> None:
        from tests.conftest import token_form

        body = client.post("/maco/oauth/token", data=token_form(settings)).json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert len(body["access_token"]) >= 40

    def test_configured_lifetime(self) -> None:
        settings = make_settings(maco_token_lifetime=60)
        from pruefstand.mock_server.app import create_app
        from pruefstand.mock_server.store import SQLiteStore
        from tests.conftest import token_form

        with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
            assert client.post("/maco/oauth/token", data=token_form(settings)).json()["expires_in"] == 60

    @pytest.mark.parametrize(
        ("change", "status", "error"),
        [
            ({"client_secret": "wrong"}, 401, "invalid_client"),
            ({"password": "wrong"}, 400, "invalid_grant"),  # RFC 6749 §5.2
            ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),  # RFC 6749 §5.2
        ],
    )
    def test_wrong_credentials_are_refused(
        self, client: TestClient, settings: Settings, change: dict[str, str], status: int, error: str
    ) -> None:
        from tests.conftest import token_form

        response = client.post("/maco/oauth/token", data={**token_form(settings), **change})
        assert response.status_code == status
        assert response.json()["error"] == error
        if status == 401:
            assert response.headers["WWW-Authenticate"] == 'Basic realm="pruefstand"'

    def test_401_answers_carry_the_bearer_challenge_of_rfc_6750(self, client: TestClient, example: Any) -> None:
        missing = client.post("/maco/inbound", json=example("Z41_Marktlokation"))
        assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, 'Bearer realm="pruefstand"')
        unknown = client.post(
            "/maco/inbound", json=example("Z41_Marktlokation"), headers={"Authorization": "Bearer nope"}
        )
        assert unknown.status_code == 401
        assert unknown.headers["WWW-Authenticate"].startswith('Bearer realm="pruefstand", error="invalid_token"')
        assert "bearer token unknown" in unknown.headers["WWW-Authenticate"]

    def test_missing_field_is_invalid_request_naming_it(self, client: TestClient, settings: Settings) -> None:
        from tests.conftest import token_form

        form = token_form(settings)
        del form["username"]
        response = client.post("/maco/oauth/token", data=form)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "'username' is a required property" in response.json()["error_description"]

    def test_the_token_endpoint_follows_rfc_6749(self, client: TestClient, settings: Settings) -> None:
        """§2.3.1 HTTP Basic client authentication, one method only (§2.3), §3.1 no repeated parameter, §5.1 answers
        never cached, §5.2 error codes; RFC 6750 §2: a token is sent one way only."""
        import base64

        from tests.conftest import token_form

        form = token_form(settings)
        basic = base64.b64encode(f"{form['client_id']}:{form['client_secret']}".encode()).decode()
        grant = {k: v for k, v in form.items() if k not in ("client_id", "client_secret")}
        issued = client.post("/maco/oauth/token", data=grant, headers={"Authorization": f"Basic {basic}"})
        assert issued.status_code == 200, issued.text
        assert (issued.headers["Cache-Control"], issued.headers["Pragma"]) == ("no-store", "no-cache")
        wrong = base64.b64encode(f"{form['client_id']}:nope".encode()).decode()
        refused = client.post("/maco/oauth/token", data=grant, headers={"Authorization": f"Basic {wrong}"})
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="pruefstand"'
        assert refused.headers["Cache-Control"] == "no-store"
        both = client.post("/maco/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"})
        assert (both.status_code, both.json()["error"]) == (400, "invalid_request")
        assert "use one method only (RFC 6749 §2.3)" in both.json()["error_description"]
        body = "&".join(f"{k}={v}" for k, v in form.items()) + "&password=other"
        repeated = client.post("/maco/oauth/token", content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert (repeated.status_code, repeated.json()) == (
            400, {"error": "invalid_request", "error_description": "password: is given more than once (RFC 6749 §3.1)"}
        )  # fmt: skip
        token = issued.json()["access_token"]
        twice = client.get("/maco/processes/x", params={"access_token": token},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert twice.status_code == 400
        assert "send it one way only (RFC 6750 §2)" in twice.json()["message"]

    def test_given_no_or_unknown_token_then_401_event_fail(
        self, client: TestClient, example: Callable[[str], Payload]
    ) -> None:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="}):
            response = post(client, example("Z41_Marktlokation"), headers)
            assert response.status_code == 401
            assert response.json()["errorCode"] == "401"
            assert response.json()["message"]

    def test_given_the_clock_advanced_past_the_lifetime_then_the_token_expires(
        self,
        client: TestClient,
        auth: dict[str, str],
        example: Callable[[str], Payload],
        admin: dict[str, str],
    ) -> None:
        advance = client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 899}, headers=admin)
        assert advance.status_code == 200
        assert post(client, example("Z41_Marktlokation"), auth).status_code == 201

        client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": 1}, headers=admin)
        response = post(client, example("Z41_Marktlokation"), auth)

        assert response.status_code == 401
        assert response.json() == {
            "errorCode": "401",
            "message": "unauthenticated: bearer token expired; get a new one from POST /oauth/token",
        }


def test_the_mock_extension_reads_the_started_process_in_the_callers_sandbox(
    client: TestClient, settings: Settings, example: Callable[[str], Payload]
) -> None:
    token_a, token_b = get_token(client, settings, "a"), get_token(client, settings, "b")
    started = post(client, example("Z41_Marktlokation"), {"Authorization": f"Bearer {token_a}"}).json()

    mine = client.get(f"/maco/processes/{started['businessKey']}", headers={"Authorization": f"Bearer {token_a}"})
    theirs = client.get(f"/maco/processes/{started['businessKey']}", headers={"Authorization": f"Bearer {token_b}"})

    assert mine.status_code == 200
    assert mine.json()["businessKey"] == started["businessKey"]
    assert mine.json()["pruefidentifikator"] == "25001"
    assert mine.json()["payload"] == example("Z41_Marktlokation")
    assert theirs.status_code == 404
    assert theirs.json() == {
        "errorCode": "404",
        "message": f"no MaCo process with businessKey {started['businessKey']} in sandbox 'b'",
    }


def test_a_trigger_recorded_before_the_orjson_digest_is_still_replayed_and_still_conflicts(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], services: Services
) -> None:
    """State files keep processes without their digest, each with an idempotency record whose digest was written
    with the standard library's JSON; the same trigger again gets its first answer, another payload under its
    prozessId still a 409."""
    body = example("Z33_Marktlokation_Addition")
    body["transaktionsdaten"]["zahl"] = 0.0000001  # floats are where the two serialisers differ (1e-07 / 1e-7)
    assert payload_digest(body) != stable_digest(body)
    first = {"businessKey": "legacy-key", "message": "recorded by an earlier version"}
    prozess_id, sender = body["zusatzdaten"]["prozessId"], body["transaktionsdaten"]["absender"]["rollencodenummer"]
    key = idempotency_key("START_BERECHNUNGSFORMEL", prozess_id, sender)
    legacy = {"businessKey": "legacy-key", "prozessId": prozess_id, "eventname": "START_BERECHNUNGSFORMEL",
              "sender": sender, "receivedAt": "2024-08-08T12:58:22Z", "payload": body}  # fmt: skip
    with services.store.transaction() as uow:  # as an earlier version wrote them: no payloadDigest, a trigger record
        uow.insert("default", PROCESS_KIND, "legacy-key", legacy)
        uow.insert("default", TRIGGER_KIND, key, {"digest": stable_digest(body), "response": first})
    replayed = post(client, body, auth)
    assert replayed.status_code == 201, replayed.text
    assert replayed.json() == first
    other = example("Z34_Marktlokation")
    assert post(client, other, auth).status_code == 409


@pytest.mark.parametrize("value", ["1.000001", 1.000001, "0.95"])
def test_a_loss_factor_is_taken_as_a_number_or_a_decimal_string(
    client: TestClient, auth: dict[str, str], example: Callable[[str], Payload], value: Any
) -> None:
    body = example("Z33_Marktlokation_Addition")
    body["zusatzdaten"]["prozessId"] = f"loss-{value!s}"
    step = body["stammdaten"]["BERECHNUNGSFORMEL"][0]["rechenschritte"][0]
    step["verlustfaktorTrafo"] = value
    step["verlustfaktorLeitung"] = value
    answer = post(client, body, auth)
    assert answer.status_code == 201, answer.text
    step["verlustfaktorTrafo"] = "1.0000001"  # seven decimals: refused by the rule, not by the type
    body["zusatzdaten"]["prozessId"] = f"loss-refused-{value!s}"
    refused = post(client, body, auth)
    assert refused.status_code == 400
    assert "verlustfaktorTrafo: 1.0000001 has more than 6 decimals (AHB 25001 [912])" in refused.json()["message"]
