"""A servable contract derived from an official OpenAPI document that a validator cannot take as it is.

TM Forum's v5 documents (TMF622 v5.0.0) describe polymorphism with `oneOf` + `discriminator`. JSON Schema
validators ignore `discriminator`, so an instance that fits two loose branches (a ProductRef is also a valid
Product) fails `oneOf`. The derivation keeps the official text and changes only that, mechanically: `oneOf` with a
discriminator becomes an `anyOf` whose branches each demand their own `@type` value and then the mapped schema, so
the branch is chosen by the discriminator, as OpenAPI 3 defines it; the `discriminator` keyword itself is then
dropped (a schema mapping its own name to itself, as every v5 entity does, sends a validator that follows
discriminators in circles). It keeps the chosen paths and every component
they reach. The schemas are recursive (a Product holds Products): validate them with lazy `$ref` resolution
(`schema_ref`), not by inlining. `python -m pruefstand.contracts.derived_contract IN OUT` writes the derived contract.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PREFIX = "#/components/schemas/"


def with_discriminators(schema: Mapping[str, Any]) -> dict[str, Any]:
    """One schema with its `oneOf` + discriminator mapping turned into an anyOf dispatch on the property."""
    changed = dict(schema)
    discriminator = changed.get("discriminator")
    if "oneOf" in changed and isinstance(discriminator, Mapping):
        prop = str(discriminator.get("propertyName", "@type"))
        mapping = discriminator.get("mapping") or {}
        branches: list[dict[str, Any]] = []
        if mapping:
            for value, target in mapping.items():
                branches.append(
                    {"required": [prop], "properties": {prop: {"enum": [value]}}, "allOf": [{"$ref": target}]}
                )
        else:  # no mapping: the schema names are the values (OpenAPI 3.0.3 4.7.24.1)
            for branch in changed["oneOf"]:
                target = str(branch.get("$ref", ""))
                value = target.rsplit("/", 1)[-1]
                branches.append({"required": [prop], "properties": {prop: {"enum": [value]}}, "allOf": [branch]})
        changed["anyOf"] = branches
        del changed["oneOf"]
    # Done with: the dispatch is explicit now. (openapi-schema-validator would follow a self-mapping of an `allOf`
    # schema, e.g. ProductOrder -> ProductOrder, forever.)
    changed.pop("discriminator", None)
    return changed


def _transform(node: Any, fn: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Any:
    """`fn` applied to every mapping of a JSON tree, bottom-up."""
    if isinstance(node, Mapping):
        return fn({k: _transform(v, fn) for k, v in node.items()})
    if isinstance(node, list):
        return [_transform(v, fn) for v in node]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _component(document: Mapping[str, Any], ref: str) -> tuple[str, str]:
    if not ref.startswith("#/components/"):
        raise ValueError(f"only local component references can be derived, not {ref!r}")
    kind, name = ref.removeprefix("#/components/").split("/", 1)
    if name not in document.get("components", {}).get(kind, {}):
        raise ValueError(f"{ref} is not in the document")
    return kind, name


def reachable(document: Mapping[str, Any], roots: Iterable[Any]) -> set[str]:
    """Every component reference reachable from the given nodes."""
    seen: set[str] = set()
    stack = [ref for root in roots for ref in _refs(root)]
    while stack:
        ref = stack.pop()
        if ref in seen:
            continue
        seen.add(ref)
        kind, name = _component(document, ref)
        stack.extend(_refs(document["components"][kind][name]))
    return seen


def derive(reference: Mapping[str, Any], keep: Callable[[str], bool], *, title: str | None = None) -> dict[str, Any]:
    """The reference with only the paths `keep` accepts, the components they reach, and discriminators made
    explicit."""
    document = _transform(copy.deepcopy(dict(reference)), with_discriminators)
    paths = {path: item for path, item in document["paths"].items() if keep(path)}
    refs = reachable(document, [paths])
    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(refs):
        kind, name = _component(document, ref)
        components.setdefault(kind, {})[name] = document["components"][kind][name]
    for kind, found in document.get("components", {}).items():
        if kind == "securitySchemes":
            components[kind] = found
    derived = {key: value for key, value in document.items() if key not in ("paths", "components")}
    derived["paths"] = paths
    derived["components"] = components
    if title:
        derived["info"] = {**derived.get("info", {}), "title": title}
    return derived


def schema_ref(document: Mapping[str, Any], ref: str) -> dict[str, Any]:
    """A schema that validates against `ref` (e.g. `#/components/schemas/ProductOrder_FVO`) of the document, with its
    references resolved lazily (recursion is fine)."""
    _component(document, ref)
    return {"$ref": ref, "components": document["components"]}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m pruefstand.contracts.derived_contract REFERENCE.yaml OUT.json", file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    reference = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    derived = derive(
        reference,
        lambda path: not path.startswith("/listener"),
        title=f"{reference['info']['title']} (derived by pruefstand from the official {reference['info']['version']})",
    )
    target.write_text(json.dumps(derived, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
