"""The `pruefstand` command line: lint, and the checks serve makes before it starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pruefstand.contracts.spec_catalog import scenarios_root
from pruefstand.mock_server.cli import main


def test_lint_passes_the_bundled_contracts() -> None:
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 0, result.output
    assert "ok    " in result.output
    assert "maco/trigger.yaml" in result.output
    assert "maco/backend.yaml" in result.output


def test_lint_fails_naming_file_and_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(broken)])
    assert result.exit_code == 1
    assert f"FAIL  {broken}: #/paths/~1x/get" in result.output


def test_serve_refuses_unpaired_spec_and_base_path(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("openapi: 3.0.3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--spec", str(spec)])
    assert result.exit_code == 2
    assert "give one --base-path for each --spec" in result.output


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("/maco", "overlaps /maco, which the bundled maco API uses"),
        ("/tmf-api", "overlaps /tmf-api/productOrderingManagement/v4, which the bundled tmf622 API uses"),
        ("/", "the root holds the bundled APIs"),
        ("partner", "must start with '/', e.g. /partner"),
    ],
)
def test_serve_names_why_a_base_path_cannot_be_used(tmp_path: Path, base: str, says: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("openapi: 3.0.3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--spec", str(spec), "--base-path", base])
    assert result.exit_code == 2
    assert says in " ".join(result.output.split())


def test_example_lists_and_prints_the_published_examples() -> None:
    listed = CliRunner().invoke(main, ["example", "maco", "inbound"])
    assert listed.output.split() == [
        "Z41_Marktlokation",
        "Z40_Netzlokation",
        "Z34_Marktlokation",
        "Z33_Marktlokation_Addition",
    ]
    printed = CliRunner().invoke(main, ["example", "maco", "inbound", "Z34_Marktlokation"])
    body = json.loads(printed.output)
    assert body["transaktionsdaten"]["absender"]["ansprechpartner"]["eMailAdresse"] == "m.mustermann@email.de"
    missing = CliRunner().invoke(main, ["example", "maco", "inbound", "Z99"])
    assert missing.exit_code == 1
    assert "has no example 'Z99'" in missing.output


def test_example_without_an_operation_lists_the_operations_and_their_examples() -> None:
    listed = CliRunner().invoke(main, ["example", "maco"]).output.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["login", "POST", "/oauth/token"],
        ["inbound", "POST", "/inbound"],
        ["get_process", "GET", "/processes/{businessKey}"],
    ]
    assert listed[1].endswith("(4 example(s))")


def test_help_lists_every_command_without_importing_them() -> None:
    """`pruefstand --help` answers from the command table: no connexion, Schemathesis or flow is imported."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from pruefstand.mock_server.cli import main\n"
        "result = CliRunner().invoke(main, ['-h'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert all(name in result.output for name in ('serve', 'fuzz', 'replay', 'lint', 'example'))\n"
        "heavy = [m for m in ('connexion', 'schemathesis', 'pruefstand.mock_server.app') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_url_without_scheme_is_one_line_before_any_work() -> None:
    for command in (["fuzz", "maco"], ["replay", "scenarios/maco"]):
        result = CliRunner().invoke(main, [*command, "--url", "127.0.0.1:8080/maco"])
        assert result.exit_code == 2, result.output
        assert "Invalid value for --url: '127.0.0.1:8080/maco' is not an http(s) URL with a host" in result.output


def test_report_folders_are_created_before_the_run(tmp_path: Path) -> None:
    report = tmp_path / "deep" / "er" / "replay.xml"
    scenario = Path(__file__).parents[2] / "scenarios" / "maco" / "token_expires.yaml"
    result = CliRunner().invoke(main, ["replay", str(scenario), "--junit", str(report)])
    assert result.exit_code == 0, result.output
    assert report.read_text(encoding="utf-8").startswith("<?xml")


def test_the_bundled_scenarios_are_listed_and_copied_and_a_copy_never_overwrites_unasked(tmp_path: Path) -> None:
    listed = CliRunner().invoke(main, ["scenarios", "list"])
    assert listed.exit_code == 0, listed.output
    assert "tmf622/termination_by_seller.yaml  Termination by the seller (KUE-LE)" in listed.output
    assert len(listed.output.splitlines()) == len(list(scenarios_root().rglob("*.yaml")))
    copied = CliRunner().invoke(main, ["scenarios", "copy", str(tmp_path / "mine"), "--flow", "quittung"])
    assert copied.exit_code == 0, copied.output
    assert sorted(p.name for p in (tmp_path / "mine" / "quittung").iterdir()) == [
        "lifecycle.yaml",
        "refusals_after_issue.yaml",
    ]
    again = CliRunner().invoke(main, ["scenarios", "copy", str(tmp_path / "mine"), "--flow", "quittung"])
    assert again.exit_code == 1
    assert "exists (2 file(s) would be overwritten; --force)" in again.output
    replayed = CliRunner().invoke(main, ["replay", str(tmp_path / "mine")])
    assert replayed.exit_code == 0, replayed.output


def test_replay_against_a_mock_without_its_admin_token_is_one_clear_error_before_the_run(tmp_path: Path) -> None:
    scenarios = str(scenarios_root() / "maco" / "token_expires.yaml")
    runner = CliRunner(env={"PRUEFSTAND_ADMIN_TOKEN": ""})
    with runner.isolated_filesystem(temp_dir=tmp_path):
        missing = runner.invoke(main, ["replay", scenarios, "--url", "http://127.0.0.1:9", "--mock"])
        assert missing.exit_code == 2
        assert "--mock needs the mock's admin token" in missing.output
        assert "pruefstand.db.admin-token is missing or empty" in missing.output
        Path("pruefstand.db.admin-token").write_text("kept-token\n", encoding="utf-8")
        found = runner.invoke(main, ["replay", scenarios, "--url", "http://127.0.0.1:9", "--mock"])
        assert "admin token" not in found.output  # the kept token was taken; then: nothing answers there
        assert "--url http://127.0.0.1:9: nothing answers there" in found.output


def test_example_and_lint_know_the_tmf622_v5_contract() -> None:
    listed = CliRunner().invoke(main, ["example", "tmf622-v5"])
    assert listed.exit_code == 0, listed.output
    assert "createProductOrder" in listed.output
    assert "POST   /productOrder" in listed.output


def test_a_flows_serve_options_come_from_its_registration_and_reach_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pruefstand.mock_server.commands import serve as serve_module
    from pruefstand.mock_server.kernel.errors import MockError

    seen: dict[str, object] = {}

    def capture(_config: object, overrides: dict[str, object]) -> object:
        seen.update(overrides)
        raise MockError("stop here")

    monkeypatch.setattr(serve_module, "load_settings", capture)
    result = CliRunner().invoke(main, ["serve", "--idempotency", "payload", "--strict-check-digits"])
    assert result.exit_code == 1
    assert (seen["maco_idempotency"], seen["maco_strict_check_digits"]) == ("payload", True)
    wrong = CliRunner().invoke(main, ["serve", "--idempotency", "sometimes"])
    assert wrong.exit_code == 2
    assert "'sometimes' is not one of 'conflict', 'payload'" in wrong.output


@pytest.mark.parametrize(
    ("arguments", "env", "says"),
    [
        (["--port", "99999"], {}, "port must be a TCP port, 1-65535, got 99999 (from --port)"),
        (["--port", "-1"], {}, "port must be a TCP port, 1-65535, got -1 (from --port)"),
        (["--workers", "0", "--workers", "-3"], {}, "workers must be 0 (one per CPU, at most 4) or a count up to 64, "
         "got -3 (from --workers)"),
        (["--max-body-bytes", "-5"], {}, "max_body_bytes must be a positive number of bytes, got -5"),
        (["--read-timeout", "0"], {}, "read_timeout must be seconds, more than 0 and at most 3600, got 0.0"),
        ([], {"PRUEFSTAND_DELIVERY_ALLOW_HOSTS": "10.0.0.0/33"}, "'10.0.0.0/33' is not a network"),
        ([], {"PRUEFSTAND_JOURNAL_SIZE": "-1"}, "journal_size must be 0 (off) or the requests kept per sandbox, up to "
         "1000000, got -1 (from environment variable PRUEFSTAND_JOURNAL_SIZE)"),
    ],
)  # fmt: skip
def test_serve_refuses_a_setting_out_of_range_in_one_line_with_status_2(
    arguments: list[str], env: dict[str, str], says: str
) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", ":memory:", *arguments], env=env)
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_fuzz_against_a_port_where_nothing_listens_fails_at_once_in_one_line() -> None:
    from pruefstand.mock_server.serving.process_hygiene import free_port

    url = f"http://127.0.0.1:{free_port()}/v2.0"
    result = CliRunner().invoke(main, ["fuzz", "quittung", "--url", url, "--max-examples", "2"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: --url {url}: nothing answers there (ConnectError")
    assert " ok" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_replay_against_a_port_where_nothing_listens_fails_at_once_in_one_line() -> None:
    from pruefstand.mock_server.serving.process_hygiene import free_port

    url = f"http://127.0.0.1:{free_port()}"
    scenario = Path(__file__).parents[2] / "scenarios" / "maco" / "token_expires.yaml"
    result = CliRunner().invoke(main, ["replay", str(scenario), "--url", url])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: --url {url}: nothing answers there (ConnectError: [Errno 111] Connection refused); is the system "
        "running?"
    ]
