"""The wheel in a partner's own project: it claims only `pruefstand` names, its pytest plugin leaves a suite with
`filterwarnings = error` and its own `contracts/` package alone, and the bundled contracts and scenarios are there.

The wheel is built from this checkout without network (hatchling is a dev dependency) and installed into a fresh
virtual environment; its dependencies come from this project's environment, minus this project itself (so nothing
of the checkout is importable there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        cwd=out,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [found] = out.glob("pruefstand-*.whl")
    return found


def test_the_wheel_claims_only_pruefstand_names_and_ships_contracts_and_scenarios(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"pruefstand", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "pruefstand/mock_server/_specs/tmf622/product-ordering-v5.json" in names
    assert "pruefstand/mock_server/_scenarios/tmf622/termination_by_seller.yaml" in names
    assert any(n.startswith("pruefstand/mock_server/store/migrations/postgresql/") for n in names)


@pytest.mark.slow
def test_a_partner_project_with_its_own_contracts_package_and_warnings_as_errors_passes(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                     cwd=tmp_path)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # the dependencies: this environment's packages, without this project (no editable path, no dist-info)
    deps = tmp_path / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(("pruefstand", "_editable_impl", "__editable__")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    project = tmp_path / "partner"
    (project / "contracts").mkdir(parents=True)
    (project / "contracts" / "__init__.py").write_text('OWNER = "partner"\n', encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n", encoding="utf-8")
    (project / "test_partner.py").write_text(
        "import sys\n\n"
        "from contracts import OWNER\n\n"
        "def test_our_own_contracts_package_is_ours():\n"
        "    assert OWNER == 'partner'\n"
        "    assert 'pruefstand.mock_server.app' not in sys.modules  # the plugin imported nothing heavy\n\n"
        "def test_the_mock_from_the_plugin(pruefstand_client):\n"
        "    assert pruefstand_client.get('/healthz').json()['status'] == 'ok'\n"
        "    order = {'productOrderItem': [{'id': '1', 'action': 'add'}]}\n"
        "    created = pruefstand_client.post('/tmf-api/productOrderingManagement/v4/productOrder', json=order)\n"
        "    assert created.status_code == 201\n\n"
        "def test_the_bundled_scenarios_are_reachable():\n"
        "    from pruefstand.contracts.spec_catalog import scenarios_root, specs_root\n"
        "    assert (scenarios_root() / 'tmf622' / 'termination_by_seller.yaml').is_file()\n"
        "    assert 'site-packages' in str(specs_root())\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = str(deps)
    result = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    cli = _run([str(venv / "bin" / "pruefstand"), "--help"], cwd=project, env=env)
    assert cli.returncode == 0, cli.stderr


def test_no_module_imports_the_checkouts_folder_names() -> None:
    """In a clone `contracts` and `mock_server` are importable too; in the wheel only `pruefstand.…` is. An import by
    the folder name would work here and break every partner."""
    stray = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("contracts", "mock_server", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.match(r"\s*(from|import) (contracts|mock_server)\b", line)
    ]
    assert stray == []
