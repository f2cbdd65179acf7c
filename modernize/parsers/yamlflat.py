"""YAML config files as flat dotted keys with line numbers (mongod.conf,
elasticsearch.yml): `net: {port: 1}` and `net.port: 1` both become `net.port`."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Flat:
    value: str  # a scalar as written; a sequence joined with ","
    line: int
    items: tuple[str, ...] = ()  # the items of a sequence


def flatten(text: str) -> dict[str, Flat] | None:
    """Scalar and list settings under dotted keys, or None when the text is not a
    YAML mapping (not YAML at all, or a bare scalar such as a legacy INI file)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    out: dict[str, Flat] = {}

    def walk(n: yaml.MappingNode, prefix: str) -> None:
        for k, v in n.value:
            key = f"{prefix}{k.value}"
            line = k.start_mark.line + 1
            if isinstance(v, yaml.MappingNode):
                walk(v, key + ".")
            elif isinstance(v, yaml.ScalarNode):
                out[key] = Flat("" if v.tag.endswith(":null") else str(v.value), line)
            elif isinstance(v, yaml.SequenceNode):
                items = tuple(str(i.value) for i in v.value if isinstance(i, yaml.ScalarNode))
                out[key] = Flat(",".join(items), line, items)

    walk(node, "")
    return out
