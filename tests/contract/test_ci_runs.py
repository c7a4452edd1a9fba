"""Conformance runs as a CI team points them at a staging system (issue 26): selection, pacing, authentication,
cassettes, dry runs; against servers of the tests' own that count what they receive and demand credentials."""

from __future__ import annotations

import contextlib
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pruefstand.mock_server.cli import main
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.contract.test_fuzz_own_apis import serving_app
from tests.fixtures import gate as g
from tests.fixtures.broken_items import items_app
from tests.fixtures.certificates import make_certificates

ITEMS = Path(__file__).parents[1] / "fixtures" / "items.yaml"
SECRETS = (g.CLIENT_SECRET, g.PASSWORD, g.BEARER)


@contextlib.contextmanager
def guarded(scheme: str, defect: str = "none", lifetime: float = 3.0, **options: Any) -> Iterator[tuple[str, g.Gate]]:
    gate = g.Gate(scheme, lifetime=lifetime)
    with serving_app(gate.wrap(items_app(defect)), **options) as url:
        yield url, gate


def run_requests(gate: g.Gate) -> list[g.Seen]:
    """What the gate saw of the run: without Schemathesis' capability probe (sent before the run, unauthenticated
    by design: it asks how the server treats odd paths)."""
    return [seen for seen in gate.seen if not seen.path.startswith("/schemathesis-probe")]


def fuzz(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["fuzz", "--spec", str(ITEMS), "--url", url, *args], env=env)


def operations_listed(output: str) -> set[str]:
    block = output.split("operations (", 1)[1].split("\nchecks:", 1)[0]
    return {line.split()[0] for line in block.splitlines()[1:] if line.strip()}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (["--include-operation-id", "getItem"], {"getItem"}),
        (["--include-path", "/items/*"], {"getItem", "deleteItem"}),
        (["--include-method", "POST"], {"createItem"}),
        (["--exclude-method", "delete"], {"createItem", "getItem"}),
        (["--exclude-operation-id", "createItem"], {"getItem", "deleteItem"}),
        (["--exclude-path", "/items"], {"getItem", "deleteItem"}),
        (["--include-path", "/items/*", "--include-method", "GET"], {"getItem"}),
    ],
)
def test_each_operation_selector_chooses_what_runs_and_a_dry_run_sends_nothing(
    selector: list[str], expected: set[str]
) -> None:
    with guarded("none") as (url, gate):
        result = fuzz(url, *selector, "--dry-run")
    assert result.exit_code == 0, result.output
    assert operations_listed(result.output) == expected
    assert gate.seen == []  # a dry run sends nothing


def test_tags_select_operations_of_a_bundled_api() -> None:
    only = CliRunner().invoke(main, ["fuzz", "quittung", "--include-tag", "TSE", "--dry-run"])
    assert only.exit_code == 0, only.output
    assert operations_listed(only.output) == {"quittungTSE", "quittungTSEData", "quittungTSEsignature"}
    without = CliRunner().invoke(
        main, ["fuzz", "quittung", "--exclude-tag", "TSE", "--exclude-tag", "MOCK", "--dry-run"]
    )
    assert operations_listed(without.output) == {
        "quittungPrepare",
        "quittungComit",
        "quittungCreate",
        "quittungZugferd",
        "quittungPdf",
    }


def test_a_selector_that_names_nothing_is_refused() -> None:
    result = CliRunner().invoke(main, ["fuzz", "quittung", "--include-tag", "TES", "--dry-run"])
    assert result.exit_code == 2
    assert "--include-tag TES names no operation of Strom-Quittung" in result.output


def test_checks_and_phases_are_chosen_by_name(tmp_path: Path) -> None:
    planned = CliRunner().invoke(
        main,
        [
            "fuzz",
            "quittung",
            "--checks",
            "not_a_server_error,IdentifiersAreNeverReused",
            "--phases",
            "examples",
            "--dry-run",
        ],
    )
    assert "checks: not_a_server_error, IdentifiersAreNeverReused\n" in planned.output
    assert "phases: examples\n" in planned.output
    outcomes = tmp_path / "checks.jsonl"
    ran = CliRunner().invoke(
        main,
        ["fuzz", "quittung", "--checks", "not_a_server_error", "--phases", "examples", "--jsonl", str(outcomes)],
    )
    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in outcomes.read_text(encoding="utf-8").splitlines()]
    assert lines
    assert {line["check"] for line in lines} == {"not_a_server_error"}
    assert {line["phase"] for line in lines} == {"examples"}
    assert all(line["status"] == "success" and line["response"]["status"] for line in lines)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--checks", "not_a_servr_error", "--checks: no check named 'not_a_servr_error'"),
        ("--phases", "statefull", "--phases: no phase named 'statefull'"),
        ("--rate-limit", "10 per second", "--rate-limit: '10 per second' is not a rate such as 10/s"),
        ("--include-method", "FETCH", "--include-method: 'FETCH' is not an HTTP method"),
    ],
)
def test_a_wrong_name_is_one_line_naming_the_option(option: str, value: str, message: str) -> None:
    result = CliRunner().invoke(main, ["fuzz", "quittung", option, value, "--dry-run"])
    assert result.exit_code == 2
    assert message in result.output


def test_the_rate_limit_holds_across_workers() -> None:
    """A server of the test's own counts the requests: after the limiter's first window, they arrive at the rate
    asked for (within 10 %), though two workers send them. The limit is well below what the fuzzer generates even on
    a busy machine (about 8 cases/s with the whole suite beside it), so the limiter is what sets the pace."""
    limit = 4
    with guarded("none") as (url, gate):
        result = fuzz(
            url,
            "--rate-limit",
            f"{limit}/s",
            "--workers",
            "2",
            "--phases",
            "fuzzing",
            "--max-time",
            "8",
            "--max-examples",
            "1000",
        )
    assert result.exit_code in (0, 1), result.output
    probe = ("GET", "/items")  # the reachability probe before the run, not part of it
    times = sorted(seen.at for seen in run_requests(gate) if (seen.method, seen.path) != probe)
    seconds = int(times[-1] - times[0])  # whole seconds from the first request, each with its window of `limit`
    assert seconds >= 4, result.output
    counted = sum(1 for at in times if at < times[0] + seconds)
    rate = counted / seconds
    assert 0.9 * limit <= rate <= 1.1 * limit, f"{counted} requests in the first {seconds} s of {len(times)} requests"


def test_a_request_timeout_is_an_error_naming_the_operation() -> None:
    with guarded("none") as (url, gate):
        gate.slow_reads = 3.0
        result = fuzz(url, "--request-timeout", "0.5", "--include-operation-id", "getItem", "--max-examples", "2")
    assert result.exit_code == 1, result.output
    assert "ERROR GET /items/{id}: Network Error: Read timed out after 0.5 seconds" in result.output


def test_max_failures_stops_the_run() -> None:
    with guarded("none", defect="schema_break") as (url, _):
        unbounded = fuzz(url, "--max-examples", "10")
        bounded = fuzz(url, "--max-examples", "10", "--max-failures", "1")
    assert unbounded.exit_code == bounded.exit_code == 1
    requests = [int(m) for m in re.findall(r"\n(\d+) requests in", unbounded.output + bounded.output)]
    assert len(requests) == 2
    assert requests[1] < requests[0], bounded.output


def test_oauth2_client_credentials_are_renewed_before_the_token_expires() -> None:
    with guarded("oauth2", lifetime=2.0) as (url, gate):
        result = fuzz(
            url,
            *("--auth", "oauth2-client-credentials", "--token-url", f"{url}/oauth/token", "--client-id", g.CLIENT_ID),
            *("--max-time", "5", "--max-examples", "1000", "--rate-limit", "20/s"),
            env={"PRUEFSTAND_CLIENT_SECRET": g.CLIENT_SECRET},
        )
    assert result.exit_code == 0, result.output
    assert len(gate.token_forms) >= 2, "the token was not renewed"
    assert {form["grant_type"] for form in gate.token_forms} == {"client_credentials"}
    assert gate.seen
    assert all(seen.accepted for seen in run_requests(gate))
    assert len({seen.authorization for seen in gate.seen}) >= 2  # requests went out with the renewed token
    assert not any(secret in result.output for secret in SECRETS)


def test_oauth2_password_grant_with_the_client_in_the_body() -> None:
    with guarded("oauth2", lifetime=60) as (url, gate):
        result = fuzz(
            url,
            *("--auth", "oauth2-password", "--token-url", f"{url}/oauth/token", "--client-auth", "body"),
            *("--client-id", g.CLIENT_ID, "--username", g.USERNAME, "--max-examples", "5"),
            env={"PRUEFSTAND_CLIENT_SECRET": g.CLIENT_SECRET, "PRUEFSTAND_PASSWORD": g.PASSWORD},
        )
    assert result.exit_code == 0, result.output
    assert gate.token_forms[0]["grant_type"] == "password"
    assert gate.token_forms[0]["username"] == g.USERNAME
    assert gate.seen
    assert all(seen.accepted for seen in run_requests(gate))


def test_a_token_endpoint_that_refuses_is_one_line() -> None:
    with guarded("oauth2") as (url, _):
        result = fuzz(
            url,
            *("--auth", "oauth2-client-credentials", "--token-url", f"{url}/oauth/token", "--client-id", "nobody"),
            env={"PRUEFSTAND_CLIENT_SECRET": "wrong"},
        )
    assert result.exit_code == 1
    assert f"token endpoint {url}/oauth/token answered 401: invalid_client" in result.output


def test_basic_auth() -> None:
    with guarded("basic") as (url, gate):
        result = fuzz(
            url,
            "--auth",
            "basic",
            "--username",
            g.USERNAME,
            "--max-examples",
            "5",
            env={"PRUEFSTAND_PASSWORD": g.PASSWORD},
        )
    assert result.exit_code == 0, result.output
    assert gate.seen
    assert all(seen.accepted for seen in run_requests(gate))


@pytest.mark.parametrize("source", ["file", "env"])
def test_a_bearer_token_from_a_file_or_the_environment(source: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(g.BEARER + "\n", encoding="utf-8")
    where = ["--token-file", str(token_file)] if source == "file" else ["--token-env", "STAGING_TOKEN"]
    with guarded("bearer") as (url, gate):
        result = fuzz(url, "--auth", "bearer", *where, "--max-examples", "5", env={"STAGING_TOKEN": g.BEARER})
    assert result.exit_code == 0, result.output
    assert gate.seen
    assert all(seen.accepted for seen in run_requests(gate))


def test_mutual_tls_with_a_client_certificate(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path)
    tls: dict[str, Any] = {
        "ssl_certfile": str(certs.server_cert),
        "ssl_keyfile": str(certs.server_key),
        "ssl_ca_certs": str(certs.ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    with guarded("none", **tls) as (url, gate):
        assert url.startswith("https://")
        presented = fuzz(
            url,
            *("--cert", str(certs.client_cert), "--key", str(certs.client_key), "--ca", str(certs.ca)),
            "--max-examples",
            "5",
        )
        refused = fuzz(url, "--ca", str(certs.ca), "--max-examples", "5")
    assert presented.exit_code == 0, presented.output
    assert gate.seen
    assert refused.exit_code == 1
    assert "nothing answers there" in refused.output  # no client certificate: the handshake fails
    assert oct(certs.client_key.stat().st_mode & 0o777) == "0o600"


def test_a_cassette_resends_the_failing_exchange_and_no_report_holds_a_secret(tmp_path: Path) -> None:
    reports = {
        "--cassette": tmp_path / "failing.har",
        "--jsonl": tmp_path / "checks.jsonl",
        "--junit": tmp_path / "junit.xml",
        "--report": tmp_path / "report.md",
    }
    env = {"PRUEFSTAND_PASSWORD": g.PASSWORD}
    with guarded("basic", defect="server_error_on_edge") as (url, gate):
        found = fuzz(
            url,
            *("--auth", "basic", "--username", g.USERNAME, "--max-examples", "25", "--seed", "3"),
            *[arg for option, path in reports.items() for arg in (option, str(path))],
            env=env,
        )
        assert found.exit_code == 1, found.output
        assert "not_a_server_error" in found.output
        archive = json.loads(reports["--cassette"].read_text(encoding="utf-8"))
        entries = archive["log"]["entries"]
        assert archive["log"]["version"] == "1.2"
        failing = [e for e in entries if e["response"]["status"] == 500]
        assert failing
        assert all(json.loads(e["request"]["postData"]["text"]) == {"name": ""} for e in failing)
        assert all(
            h["value"] == "[redacted]"
            for e in entries
            for h in e["request"]["headers"]
            if h["name"].lower() == "authorization"
        )
        before = len(gate.seen)
        resent = CliRunner().invoke(
            main, ["replay", str(reports["--cassette"]), "--auth", "basic", "--username", g.USERNAME], env=env
        )
        assert resent.exit_code == 0, resent.output
        assert "answered as recorded" in resent.output
        assert "500 (recorded 500, same)" in resent.output
        assert all(seen.accepted for seen in gate.seen[before:])  # the re-send authenticated itself afresh
    basic = "Basic " + __import__("base64").b64encode(f"{g.USERNAME}:{g.PASSWORD}".encode()).decode()
    planted = (g.PASSWORD, basic.split()[1])
    for text in [found.output, resent.output, *(p.read_text(encoding="utf-8") for p in reports.values())]:
        assert not any(secret in text for secret in planted)


def test_replay_authenticates_paces_and_selects_scenarios(tmp_path: Path) -> None:
    scenario = tmp_path / "items.yaml"
    scenario.write_text(
        """name: An item is created and read back
tags: [items]
apis: [items]
actors:
  client: {api: items}
steps:
- name: create
  request: {actor: client, operation: createItem, body: {name: pen}, expect: {status: 201}, save: {id: $.id}}
- name: read
  request: {actor: client, operation: getItem, path: {id: '{{ id }}'}, expect: {status: 200}}
""",
        encoding="utf-8",
    )
    with guarded("oauth2", lifetime=60) as (url, gate):
        common = ["replay", str(scenario), "--spec", f"items={ITEMS}", "--api-url", f"items={url}"]
        auth = ["--auth", "oauth2-client-credentials", "--token-url", f"{url}/oauth/token", "--client-id", g.CLIENT_ID]
        env = {"PRUEFSTAND_CLIENT_SECRET": g.CLIENT_SECRET}
        reports = [tmp_path / "r.xml", tmp_path / "r.md", tmp_path / "r.json"]
        written = ["--junit", str(reports[0]), "--report", str(reports[1]), "--json", str(reports[2])]
        ran = CliRunner().invoke(
            main, [*common, *auth, "--rate-limit", "1/s", "--scenario-tag", "items", *written], env=env
        )
        left_out = CliRunner().invoke(main, [*common, *auth, "--exclude-operation-id", "getItem", "--dry-run"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 scenario(s): 1 passed" in ran.output
    sent = [s for s in gate.seen if s.path != "/"]  # without the reachability probe
    assert [s.path for s in sent] == ["/items", "/items/1"]
    assert all(seen.accepted for seen in sent)
    assert sent[1].at - sent[0].at >= 0.9  # 1/s: the second request waited for the limiter's next window
    issued = list(gate.issued)
    assert issued
    for text in [ran.output, *(path.read_text(encoding="utf-8") for path in reports)]:
        assert not any(secret in text for secret in (g.CLIENT_SECRET, *issued))
    assert left_out.exit_code == 0
    assert "it calls getItem (GET /items/{id}), which the operation selection leaves out" in left_out.output
    assert "0 of 1 scenario(s) selected" in left_out.output


def test_auth_needs_a_url() -> None:
    result = CliRunner().invoke(main, ["fuzz", "quittung", "--auth", "basic", "--username", "u", "--password", "p"])
    assert result.exit_code == 2
    assert "--auth, --cert and --ca need --url" in result.output


def test_a_dry_run_asks_nothing_not_even_whether_the_system_is_there() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = fuzz(url, "--dry-run")
    assert result.exit_code == 0, result.output  # a dry run does not even ask
    assert "dry run: nothing sent" in result.output
