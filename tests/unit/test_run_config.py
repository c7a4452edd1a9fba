"""The run configuration file (pruefstand.toml's [run]/[fuzz]/[replay], pyproject.toml's [tool.pruefstand]): values
become the commands' defaults, the command line overrides them, a bad key or value is one line naming it; a
schemathesis.toml applies to the Schemathesis part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pruefstand.mock_server.cli import main
from pruefstand.mock_server.kernel.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def run(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Result:
    monkeypatch.chdir(folder)
    (folder / ".git").mkdir(exist_ok=True)  # the search for the file stops here, as Schemathesis' does
    return CliRunner().invoke(main, list(args), env=env)


def test_the_file_gives_defaults_and_the_command_line_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pruefstand.toml").write_text(
        'port = 9000\n\n[run]\ninclude-method = ["GET"]\n\n[fuzz]\nphases = ["examples"]\nseed = 7\n',
        encoding="utf-8",
    )
    from_file = run(tmp_path, monkeypatch, "fuzz", "quittung", "--dry-run")
    assert from_file.exit_code == 0, from_file.output
    assert "seed 7" in from_file.output
    assert "phases: examples\n" in from_file.output
    assert "selection: include-method GET" in from_file.output
    assert " POST " not in from_file.output
    overridden = run(tmp_path, monkeypatch, "fuzz", "quittung", "--phases", "coverage", "--seed", "8", "--dry-run")
    assert "phases: coverage\n" in overridden.output
    assert "seed 8" in overridden.output
    assert load_settings(config=tmp_path / "pruefstand.toml").port == 9000  # serve reads the same file, its keys


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[fuzz]\nmax-exampels = 5\n", "fuzz.max-exampels: unknown key (did you mean 'max-examples'?)"),
        ("[fuzz]\nmax-examples = 'ten'\n", "fuzz.max-examples: 'ten' is not of type 'integer'"),
        ("[run]\nmax-examples = 5\n", "run.max-examples: unknown key"),
        ("[replay]\nauth = 'kerberos'\n", "replay.auth: 'kerberos' is not one of"),
        ("[fuzz]\ninclude-tag = 'TSE'\n", "fuzz.include-tag: 'TSE' is not of type 'array'"),
        ("[run]\nclient-secret = '${NOT_SET_ANYWHERE}'\n", "run.client-secret: ${NOT_SET_ANYWHERE} is not set"),
        ("fuzz = 3\n", "fuzz: expected a table [fuzz]"),
        ("[fuzz\n", "not TOML"),
    ],
)
def test_a_bad_key_or_value_is_one_line_naming_it(
    content: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pruefstand.toml").write_text(content, encoding="utf-8")
    result = run(tmp_path, monkeypatch, "fuzz", "quittung", "--dry-run")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]
    assert "pruefstand.toml" in lines[0]


def test_environment_variables_and_paths_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "reports").mkdir(parents=True)
    (project / "pruefstand.toml").write_text(
        '[fuzz]\nphases = ["examples"]\ninclude-operation-id = ["${OPERATION}"]\njsonl = "reports/checks.jsonl"\n',
        encoding="utf-8",
    )
    (project / "sub").mkdir()
    (project / ".git").mkdir()
    monkeypatch.chdir(project / "sub")  # the file is found in a parent folder
    result = CliRunner().invoke(main, ["fuzz", "quittung"], env={"OPERATION": "quittungPrepare"})
    assert result.exit_code == 0, result.output
    assert "POST /quittung/prepare" in result.output
    assert "POST /quittung/commit" not in result.output
    assert (project / "reports" / "checks.jsonl").read_text(encoding="utf-8").count("quittung/prepare") > 0


def test_pyproject_tool_pruefstand_configures_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.pruefstand.replay]\n'
        'scenario-tag = ["refusal"]\nexclude-scenario-tag = ["maco"]\n',
        encoding="utf-8",
    )
    result = run(tmp_path, monkeypatch, "replay", str(ROOT / "scenarios"), "--dry-run")
    assert result.exit_code == 0, result.output
    selected = [line for line in result.output.splitlines() if line.startswith("  run ")]
    assert len(selected) == 2, result.output  # quittung/refusals_after_issue, tmf622/refused_orders
    assert "2 of 64 scenario(s) selected" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.pruefstand]\nrate-limit = "5/s"\n', encoding="utf-8")
    misplaced = run(tmp_path, monkeypatch, "replay", str(ROOT / "scenarios"), "--dry-run")
    assert misplaced.exit_code == 2
    assert "tool.pruefstand.rate-limit: unknown key; expected a table [tool.pruefstand.run]" in misplaced.output


def test_config_option_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "ci" / "staging.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('[fuzz]\ninclude-tag = ["TSE"]\n', encoding="utf-8")
    result = run(tmp_path, monkeypatch, "fuzz", "quittung", "--config", str(elsewhere), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "operations (3):" in result.output


def test_a_schemathesis_toml_applies_to_the_schemathesis_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pruefstand's own default is 50 examples; the team's schemathesis.toml says 2, and that is what runs; an
    option on the command line still wins."""
    (tmp_path / "schemathesis.toml").write_text("[generation]\nmax-examples = 2\n", encoding="utf-8")
    args = ("fuzz", "quittung", "--phases", "fuzzing", "--include-operation-id", "quittungPrepare")
    small = run(tmp_path, monkeypatch, *args)
    assert small.exit_code == 0, small.output
    cases = [int(n) for n in re.findall(r"POST /quittung/prepare\s+(\d+) cases", small.output)]
    assert cases, small.output
    assert max(cases) <= 2, small.output
    larger = run(tmp_path, monkeypatch, *args, "--max-examples", "12")
    cases = [int(n) for n in re.findall(r"POST /quittung/prepare\s+(\d+) cases", larger.output)]
    assert cases, larger.output
    assert max(cases) > 2, larger.output
    (tmp_path / "schemathesis.toml").write_text("[generation]\nmax-exampels = 2\n", encoding="utf-8")
    broken = run(tmp_path, monkeypatch, *args)
    assert broken.exit_code != 0
    assert "schemathesis.toml" in broken.output


@pytest.mark.parametrize("key", ["url", "junit", "report", "dry-run"])
def test_an_option_of_its_own_in_each_command_is_not_taken_from_the_run_table(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fuzz's --url is an API's base URL, replay's the server root; one report file for both would be overwritten."""
    value = "true" if key == "dry-run" else '"x"'
    (tmp_path / "pruefstand.toml").write_text(f"[run]\n{key} = {value}\n", encoding="utf-8")
    result = run(tmp_path, monkeypatch, "fuzz", "quittung", "--dry-run")
    assert result.exit_code == 2
    assert f"run.{key}: unknown key" in result.output
