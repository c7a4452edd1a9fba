"""Contracts load once and fail at load time naming the file and the place of the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pruefstand.contracts import SpecLoadError, bundled_spec_path, load_spec


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_contracts_resolve_every_ref() -> None:
    for relative in ("maco/trigger.yaml", "maco/backend.yaml", "admin/admin.yaml"):
        spec = load_spec(bundled_spec_path(relative))
        assert "$ref" not in str(spec.document), relative


def test_a_spec_is_loaded_once() -> None:
    path = bundled_spec_path("maco/trigger.yaml")
    assert load_spec(path) is load_spec(path)


def test_the_seed_examples_are_kept_as_named_examples() -> None:
    operation = load_spec(bundled_spec_path("maco/trigger.yaml")).operation("inbound")
    media = operation["requestBody"]["content"]["application/json"]
    assert operation["requestBody"]["required"] is True
    assert list(media["examples"]) == [
        "Z41_Marktlokation",
        "Z40_Netzlokation",
        "Z34_Marktlokation",
        "Z33_Marktlokation_Addition",
    ]
    assert {"401", "409"} <= set(operation["responses"])


def test_broken_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "openapi: 3.0.3\ninfo: [unclosed\n")
    with pytest.raises(SpecLoadError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}: line 3, column 1:")


def test_an_invalid_document_names_the_json_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "invalid.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses: {'200': {}}\n",
    )
    with pytest.raises(SpecLoadError) as caught:
        load_spec(path)
    assert caught.value.path == str(path)
    assert caught.value.place == "#/paths/~1x/get/responses/200"
    assert "is not valid" in caught.value.reason


def test_a_dangling_ref_names_the_reference(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dangling.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: 'other.yaml#/Missing'}\n",
    )
    with pytest.raises(SpecLoadError) as caught:
        load_spec(path)
    assert caught.value.path == str(path)
    assert "other.yaml" in str(caught.value)


def test_a_dangling_local_ref_is_named_without_quoting_the_whole_document(tmp_path: Path) -> None:
    padding = "".join(f"    S{i}: {{type: string, description: '{'x' * 200}'}}\n" for i in range(500))
    path = write(
        tmp_path,
        "big.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Nope'}\ncomponents:\n  schemas:\n" + padding,
    )
    with pytest.raises(SpecLoadError) as caught:
        load_spec(path)
    assert "'/components/schemas/Nope' does not exist in the document" in str(caught.value)
    assert len(str(caught.value)) < 400


def test_not_an_openapi_document(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="is not an OpenAPI 2 or 3 document"):
        load_spec(write(tmp_path, "x.yaml", "hello: world\n"))


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="cannot be read"):
        load_spec(tmp_path / "nope.yaml")


def test_the_resolved_cache_key_follows_every_referenced_file(tmp_path: Path) -> None:
    from pruefstand.contracts import resolved_cache

    main = write(
        tmp_path,
        "main.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: 'schemas/item.yaml#/Item'}\n",
    )
    (tmp_path / "schemas").mkdir()
    item = tmp_path / "schemas" / "item.yaml"
    item.write_text("Item: {type: object, properties: {a: {$ref: 'more.yaml#/A'}}}\n", encoding="utf-8")
    more = tmp_path / "schemas" / "more.yaml"
    more.write_text("A: {type: string}\n", encoding="utf-8")
    (tmp_path / "unrelated.yaml").write_text("x: 1\n", encoding="utf-8")
    first = resolved_cache.content_key(main, "all")
    (tmp_path / "unrelated.yaml").write_text("x: 2\n", encoding="utf-8")
    assert resolved_cache.content_key(main, "all") == first  # a file no $ref reaches does not count
    more.write_text("A: {type: integer}\n", encoding="utf-8")  # two references away
    assert resolved_cache.content_key(main, "all") not in (first, None)
    assert resolved_cache.content_key(main, "external") != resolved_cache.content_key(main, "all")


def test_a_cached_contract_is_the_one_that_was_resolved_and_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pruefstand.contracts import resolved_cache, spec_loader

    monkeypatch.setenv("PRUEFSTAND_CACHE_DIR", str(tmp_path / "cache"))
    spec = spec_loader._parse_validate_resolve(bundled_spec_path("maco/trigger.yaml"), "all")
    spec_loader._load.cache_clear()
    loaded = load_spec(bundled_spec_path("maco/trigger.yaml"))
    assert loaded.document == spec.document
    [entry] = (tmp_path / "cache").iterdir()
    assert json.loads(entry.read_text(encoding="utf-8")) == spec.document
    key = resolved_cache.content_key(bundled_spec_path("maco/trigger.yaml").resolve(), "all")
    assert entry.name == f"spec-{key}.json"
