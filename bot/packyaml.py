"""Reading a ``pack.yaml``: PyYAML's safe loader (libyaml's where built with it) that keeps
the line of every mapping, key and list, within the depth and alias limits.

Apart from ``factbot.packs`` so that PyYAML is imported only when a pack is read, not when
the packs come from the cache (factbot.packcache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from factbot.errors import PackError
from factbot.packs import (
    MAX_PACK_BYTES,
    MAX_YAML_DEPTH,
    _Mapping,
    _Sequence,
    read_limited,
    shown,
)

# libyaml's parser where PyYAML was built with it: several times faster at start-up.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[misc, valid-type]
    """A safe loader that remembers the line of every mapping, key and list."""

    file = "<pack>"


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise PackError(loader.file, line, f"key {shown(key)} is not text")
        if key in mapping:
            raise PackError(loader.file, line, f"duplicate key {shown(key)}")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Sequence:
    seq = _Sequence(loader.construct_object(child, deep=True) for child in node.value)
    seq.line = node.start_mark.line + 1
    return seq


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _check_shape(text: str, file: str) -> None:
    """Refuse YAML nested deeper than MAX_YAML_DEPTH, or whose aliases expand it beyond
    MAX_PACK_BYTES characters, from the parser's events, before any node is built.

    An alias costs what its anchor holds, counted once per use: ten nested lists of ten
    aliases each would be 10**10 values once expanded. Without aliases a pack never
    counts more characters than its file has bytes, so only aliases can reach the limit.
    """
    parser = _SafeBase(text)
    try:
        anchors: dict[str, int] = {}
        opened: list[tuple[str | None, list[int]]] = []  # collections being read: anchor, size
        while parser.check_event():
            event = parser.get_event()
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.CollectionStartEvent):
                if len(opened) >= MAX_YAML_DEPTH:
                    raise PackError(file, line,
                                    f"YAML nested over {MAX_YAML_DEPTH} levels deep; a pack "
                                    f"needs 6")
                opened.append((event.anchor, [1]))
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, (size,) = opened.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, size = event.anchor, len(event.value)
            elif isinstance(event, yaml.AliasEvent):
                anchor, size = None, anchors.get(event.anchor or "", 0)
            else:  # the stream and its documents opening and closing
                continue
            if anchor is not None:
                anchors[anchor] = size
            if opened:
                total = opened[-1][1]
                total[0] += size
                if total[0] > MAX_PACK_BYTES:
                    raise PackError(file, line,
                                    f"with its aliases expanded the pack is over "
                                    f"{MAX_PACK_BYTES:,} characters, the limit")
    finally:
        parser.dispose()


def _compose(loader: _LineLoader, text: str) -> yaml.Node | None:
    """The document's node tree, within the depth and alias limits; PackError if not."""
    try:
        _check_shape(text, loader.file)
        node: yaml.Node | None = loader.get_single_node()
        return node
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise PackError(loader.file, line, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise PackError(loader.file, None, f"invalid YAML: {exc}") from None


def compose_pack(path: Path) -> yaml.Node | None:
    """The node tree of a ``pack.yaml``, read and parsed within the limits ``load_pack`` sets."""
    text = read_limited(path, MAX_PACK_BYTES, "pack")
    loader = _LineLoader(text)
    loader.file = str(path)
    try:
        return _compose(loader, text)
    finally:
        loader.dispose()


def read_pack(path: Path) -> Any:
    """The data of a ``pack.yaml``, its mappings and lists carrying their lines."""
    raw_text = read_limited(path, MAX_PACK_BYTES, "pack")
    loader = _LineLoader(raw_text)  # a SafeLoader subclass
    loader.file = str(path)  # so that errors raised while loading name the file
    try:
        node = _compose(loader, raw_text)
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise PackError(str(path), line, f"invalid YAML: {exc.problem}") from None
    except (ValueError, OverflowError) as exc:  # a value YAML's types refuse: 5,000 digits
        raise PackError(str(path), None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
