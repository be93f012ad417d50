"""Decode raw Query/Scan pages with pyarrow's JSON reader (the read path's fast lane).

Why
---
``json.loads`` of a 1 MB page builds hundreds of thousands of Python dicts
and holds the GIL throughout, so the threads of a parallel scan cannot
overlap it. pyarrow's JSON reader parses the same bytes about three times
faster, straight into columns, with the GIL released: pages parsed in
several threads really run on all cores.

How
---
1. :func:`split_items` cuts the ``"Items": [...]`` span out of a response
   body without parsing it (a byte search, argued correct for DynamoDB's
   wire format below); botocore parses only the small remainder (counts,
   ``LastEvaluatedKey``), the items travel as :class:`RawItems`.
2. :class:`PageParser` (one per read, shared by its threads) reads each
   :class:`RawItems` into :class:`ArrowItems` with an **explicit schema**
   and ``unexpected_field_behavior="error"``. Arrow never infers a type:
   inference turns ISO-8601-looking strings into timestamps, and costs
   memory quadratically for maps used as dictionaries (10,000 items with
   distinct map keys: 51 s and 2.8 GB). The schema is *learned* from items
   decoded the exact way (``json``): the first items of the first page, then
   all of any page whose parse meets an attribute, map key or type tag the
   schema lacks. A schema that grows too large, or parses that keep failing,
   switch the read back to the exact path for good.
3. :meth:`ArrowItems.decode_columns` turns the parsed columns into the
   segments of :mod:`xacct_nb._decode` -- the very kinds the exact path
   builds, so :class:`~xacct_nb._decode.FrameBuilder` joins pages of both
   origins. S columns become Arrow-backed string arrays with no Python
   object per value; N columns are validated and converted by Arrow compute
   kernels where the result is certain to equal Python's ``int`` / ``float``
   (anything else takes the exact per-value conversion); sets, lists, maps
   and binary values are built as Python objects from the columns (repeated
   values converted once and shared). Whenever a page holds something the
   fast lane cannot decode with certainty (a value with no or several type
   tags, a JSON ``null``, bytes that are not UTF-8, a number Arrow might read
   differently, flattened names that collide ...), that page is decoded by
   the exact path from its original bytes instead.

Known difference: the keys of a decoded map (``M``) come in the order the
read first met them (the schema's order), not in each item's own wire
order; the dicts are equal, and DynamoDB itself does not keep map keys in
any order.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import warnings
from collections.abc import Callable, Container
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from ._decode import (
    NUMBER_FUNCS,
    convert_numbers,
    gc_paused,
    integral_values,
    string_dtype,
    to_bytes,
)
from ._errors import FastLaneWarning, XacctError

__all__ = ["ArrowItems", "PageParser", "RawItems", "split_items"]

# --------------------------------------------------------------------------- #
# Cutting the Items array out of a response body
# --------------------------------------------------------------------------- #

# The key "Items" whose value is an array, preceded by "{" or ",": the quote
# before Items is then necessarily an opening quote (a closing one would be
# followed by letters, which JSON forbids), so this is a key named exactly
# Items; in DynamoDB's wire format only the top-level Items holds an array
# (attributes and map entries hold objects).
_ITEMS_KEY = re.compile(rb'([{,])\s*"Items"\s*:\s*\[')
# A "]" then "," then a key made of letters. Both quotes are unescaped (a quote
# after "," or whitespace, a quote after a letter), and the first one must
# open a string (letters may not follow a closing quote), so the "," and the
# "]" are structural. Inside Items every array (L, SS, NS, BS) is the value of
# a one-entry type object and is followed by "}", never by ",": the first
# match after the start of Items is its end.
_ITEMS_END = re.compile(rb'\]\s*,\s*"[A-Za-z]+"\s*:')


class RawItems:
    """The undecoded ``Items`` array of one page, and its item count.

    ``data`` is the JSON document ``{"Items": [...]}`` (what the JSON reader
    takes), in an Arrow buffer. ``len()`` is the number of items; ``[:n]``
    keeps the first ``n`` (the read's ``limit``), applied when the page is
    parsed.
    """

    __slots__ = ("count", "data", "stop")

    def __init__(self, data: pa.Buffer | bytes, count: int, stop: int | None = None) -> None:
        self.data = data
        self.count = count
        self.stop = count if stop is None else min(stop, count)

    def __len__(self) -> int:
        return self.stop

    def __getitem__(self, key: slice) -> RawItems:
        if (
            not isinstance(key, slice)
            or key.step not in (None, 1)
            or (key.start or 0) != 0
            or key.stop is None
            or key.stop < 0
        ):
            raise TypeError("RawItems only supports [:n]")
        return RawItems(self.data, self.count, min(self.stop, key.stop))

    def loads(self) -> list[Any]:
        """Return the items as ``json.loads`` gives them (the first ``len(self)``)."""
        with gc_paused():
            items = json.loads(bytes(self.data))["Items"]
        if not isinstance(items, list):
            raise ValueError("the Items of a response are not a JSON array")
        return items if self.stop == len(items) else items[: self.stop]


def _items_end(body: bytes, array_start: int) -> int | None:
    """Return the index just after the "]" that closes the Items array starting at ``array_start``.

    The first "]" followed by "," and a key after the start of Items (see
    _ITEMS_END), found by Arrow's regex engine (RE2: a fast literal scan, the
    GIL released); if there is none, Items is the last member and the body
    ends with "]" and "}". Searching from the end would be faster still, but
    could take a later member holding an array for the end of Items, and with
    it the ``LastEvaluatedKey`` before it: a silently short read.
    """
    offsets = pa.py_buffer(np.array([array_start, len(body)], dtype=np.int64))
    rest = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)])
    found = pc.find_substring_regex(rest, _ITEMS_END.pattern.decode())[0].as_py()
    if found >= 0:
        return array_start + found + 1
    tail = body.rstrip()
    if not tail.endswith(b"}"):
        return None
    inner = tail[:-1].rstrip()
    if not inner.endswith(b"]") or len(inner) <= array_start:
        return None
    return len(inner)


def split_items(body: bytes) -> tuple[RawItems, bytes] | None:
    """``(RawItems, body without Items)`` of a Query/Scan response body.

    ``None`` when the body does not look as expected (the caller then parses
    it whole): no ``Items`` array, no ``Count``, or a remainder that is not a
    JSON object.
    """
    if not isinstance(body, (bytes, bytearray)):
        return None
    key = _ITEMS_KEY.search(body)
    if key is None:
        return None
    key_start = key.start(1) + 1  # just after "{" or ","
    array_start = key.end() - 1
    array_stop = _items_end(body, array_start)
    if array_stop is None:
        return None
    rest = body[array_stop:].lstrip()
    head = body[:key_start]
    if rest.startswith(b","):
        rest = rest[1:]
    else:  # Items was the last key
        head = head.rstrip()
        if head.endswith(b","):
            head = head[:-1]
    remainder = bytes(head) + bytes(rest)
    try:
        meta = json.loads(remainder)
    except ValueError:
        return None
    if not isinstance(meta, dict) or "Items" in meta:
        return None
    count = meta.get("Count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return RawItems(_document(body, array_start, array_stop), count), remainder


_HEAD = b'{"Items":'


def _document(body: bytes, start: int, stop: int) -> pa.Buffer:
    """``{"Items":`` + ``body[start:stop]`` + ``}``, in one copy into Arrow's memory pool.

    (A 1 MB ``bytes`` concatenation costs five times as much: fresh memory
    from ``malloc`` every time, page faults included. The copy is one
    ``memcpy`` under the GIL: a few steps that release it would each have to
    win it back from the decoding threads.)
    """
    n = stop - start
    buffer = pa.allocate_buffer(len(_HEAD) + n + 1)
    out = memoryview(buffer).cast("B")
    out[: len(_HEAD)] = _HEAD
    out[len(_HEAD) : len(_HEAD) + n] = memoryview(body)[start:stop]
    out[-1] = ord("}")
    return buffer


# --------------------------------------------------------------------------- #
# The schema, learned from pages decoded the exact way
# --------------------------------------------------------------------------- #

_STRING = pa.large_string()
_TAG_TYPES: dict[str, pa.DataType] = {
    "S": _STRING,
    "N": _STRING,
    "B": _STRING,
    "BOOL": pa.bool_(),
    "NULL": pa.bool_(),
    "SS": pa.list_(_STRING),
    "NS": pa.list_(_STRING),
    "BS": pa.list_(_STRING),
}
#: A read stops using Arrow when its schema has more nodes than this (maps
#: used as dictionaries: a new key on every page), ...
MAX_SCHEMA_NODES = 2000
#: ... or after this many pages whose Arrow parse failed, if they are not a
#: minority.
MAX_FAILED_PAGES = 8
#: Pages with less JSON than this are decoded the exact way (a few hundred
#: items: ``json`` is as fast, and Arrow's fixed costs per page, about 3 ms,
#: would make small reads slower).
SMALL_PAGE_BYTES = 32 << 10
#: How long a thread waits for another one to learn the first schema before
#: decoding its page the exact way itself.
LEARNER_WAIT_SECONDS = 5.0
#: Schema versions kept (a page may need one older than the latest).
VERSIONS_KEPT = 64


class _Shape:
    """What the values of one attribute (or map entry, or list element) looked like."""

    __slots__ = ("elem", "keys", "tags")

    def __init__(self) -> None:
        self.tags: dict[str, None] = {}
        self.elem: _Shape | None = None
        self.keys: dict[str, _Shape] | None = None

    def learn(self, av: dict[str, Any]) -> None:
        tags = self.tags
        for tag, value in av.items():
            if tag not in tags:
                tags[tag] = None
            if tag == "L":
                elem = self.elem
                if elem is None:
                    elem = self.elem = _Shape()
                for x in value:
                    elem.learn(x)
            elif tag == "M":
                keys = self.keys
                if keys is None:
                    keys = self.keys = {}
                for k, x in value.items():
                    shape = keys.get(k)
                    if shape is None:
                        shape = keys[k] = _Shape()
                    shape.learn(x)

    def merge(self, other: _Shape) -> None:
        for tag in other.tags:
            self.tags.setdefault(tag, None)
        if other.elem is not None:
            if self.elem is None:
                self.elem = _Shape()
            self.elem.merge(other.elem)
        if other.keys is not None:
            if self.keys is None:
                self.keys = {}
            for k, shape in other.keys.items():
                self.keys.setdefault(k, _Shape()).merge(shape)

    def nodes(self) -> int:
        n = len(self.tags)
        if self.elem is not None:
            n += self.elem.nodes()
        if self.keys is not None:
            n += sum(s.nodes() for s in self.keys.values())
        return n

    def arrow_type(self) -> pa.StructType:
        fields = []
        for tag in self.tags:
            if tag == "L":
                elem = self.elem if self.elem is not None else _Shape()
                fields.append(pa.field(tag, pa.list_(elem.arrow_type())))
            elif tag == "M":
                keys = self.keys or {}
                fields.append(
                    pa.field(tag, pa.struct([pa.field(k, s.arrow_type()) for k, s in keys.items()]))
                )
            elif tag in _TAG_TYPES:
                fields.append(pa.field(tag, _TAG_TYPES[tag]))
            # An unknown tag is left out: a page holding it fails the parse
            # ("unexpected field") and is decoded the exact way, which raises.
        return pa.struct(fields)


def _learn_page(items: list[Any]) -> dict[str, _Shape] | None:
    shapes: dict[str, _Shape] = {}
    try:
        for item in items:
            for name, av in item.items():
                shape = shapes.get(name)
                if shape is None:
                    shape = shapes[name] = _Shape()
                shape.learn(av)
    except (AttributeError, TypeError):
        return None  # not valid wire items: the exact path will say so
    return shapes


#: The first items of a page that teach the schema (at most this many, from
#: at most this many bytes of the page).
LEARN_ITEMS = 500
LEARN_BYTES = 1 << 17
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _first_items(data: pa.Buffer | bytes) -> list[Any]:
    """Return the first items of a ``{"Items": [...]}`` document, decoded exactly.

    Items are decoded one by one (``raw_decode``) from the start of the
    array, within the first :data:`LEARN_BYTES` bytes; an item cut by that
    limit is left out.
    """
    text = bytes(memoryview(data)[:LEARN_BYTES]).decode("utf-8", errors="replace")
    start = text.find("[")
    items: list[Any] = []
    if start < 0:
        return items
    pos = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
    try:
        while len(items) < LEARN_ITEMS and pos < len(text) and text[pos] != "]":
            item, pos = _DECODER.raw_decode(text, pos)
            items.append(item)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos < len(text) and text[pos] == ",":
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    except ValueError:
        pass  # the item cut by LEARN_BYTES
    return items


_PARSE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


class _Version:
    """A schema: the shapes it was built from, and the pages it was learned from."""

    __slots__ = ("after", "schema", "shapes")

    def __init__(self, after: int, shapes: dict[str, _Shape]) -> None:
        self.after = after  # learned from pages queued up to this position
        self.shapes = shapes
        self.schema = _schema_of(shapes)


def _schema_of(shapes: dict[str, _Shape]) -> pa.Schema:
    item_type = pa.struct([pa.field(name, shape.arrow_type()) for name, shape in shapes.items()])
    return pa.schema([pa.field("Items", pa.list_(item_type))])


def _merged(base: dict[str, _Shape] | None, more: dict[str, _Shape]) -> dict[str, _Shape]:
    out: dict[str, _Shape] = {}
    for source in (base or {}, more):
        for name, shape in source.items():
            out.setdefault(name, _Shape()).merge(shape)
    return out


def _nodes(shapes: dict[str, _Shape]) -> int:
    return sum(shape.nodes() for shape in shapes.values())


def _canary_page() -> tuple[bytes, int]:
    """Return a page of every type tag, nested and missing values (the fast lane must decode it)."""
    items = []
    for i in range(400):
        item: dict[str, Any] = {
            "pk": {"S": f"P-{i % 7}"}, "sk": {"N": str(i)}, "f": {"N": f"{i}.25"},
            "big": {"N": str(2**64 + i)}, "ok": {"BOOL": i % 2 == 0}, "b": {"B": "AAE="},
            "ss": {"SS": ["a", f"s{i % 3}"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AQ=="]},
            "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"BOOL": False}}}]},
            "m": {"M": {"a": {"N": str(i)}, "b": {"S": "y" * 40}}},
        }
        if i % 5 == 0:
            item["maybe"] = {"NULL": True}
        elif i % 5 == 1:
            item["maybe"] = {"S": "text"}
        items.append(item)
    return json.dumps({"Items": items}).encode(), len(items)


@functools.cache
def fast_lane_works() -> bool:
    """Whether this pyarrow runs the fast lane (checked once per process, on a page of every type).

    If it does not, every read decodes the exact way: correct, only slower. That
    is said once, with a :class:`FastLaneWarning` naming pyarrow's version, never
    silently.
    """
    from ._decode import FrameBuilder

    body, count = _canary_page()
    try:
        parser = PageParser(numbers="auto", flatten=False, _check=False)
        page = parser.parse(RawItems(pa.py_buffer(body), count), seq=0)
        if not isinstance(page, ArrowItems):
            raise RuntimeError("pyarrow's JSON reader did not parse the page")
        columns = _decode_columns(page.struct, "auto", False)
        fast, exact = FrameBuilder(), FrameBuilder()
        fast.add_items(cast(Any, page))  # what the read path hands it
        exact.add_items(json.loads(body)["Items"])
        got, want = fast.to_frame(), exact.to_frame()
        if list(columns[0]) != list(want.columns) or not got.equals(want) or not (
            got.dtypes == want.dtypes).all():
            raise RuntimeError("its columns differ from the exact decoder's")
    except Exception as exc:  # noqa: BLE001 - whatever it is, the exact path stays correct
        warnings.warn(FastLaneWarning(
            f"xacct-nb's fast decoder does not work with pyarrow {pa.__version__} "
            f"({type(exc).__name__}: {exc}); every page is decoded the exact way: "
            f"correct, but slower. It is tested on pyarrow {PYARROW_FLOOR} and later: please "
            "report this version to xacct-nb."
        ), stacklevel=3)
        return False
    return True


#: pyproject.toml's lowest pyarrow: ``make test-matrix`` runs the fast lane on it and the newest.
PYARROW_FLOOR = "16"


class PageParser:
    """Parses the pages of one read (thread-safe: the read's parsing threads share it).

    Pages are numbered in the order they are queued for the builder
    (``seq``). A schema learned from a page may only be used for pages queued
    after it (plus what a page learns from itself), so no page reaches the
    builder with a column before the page that introduced that column: a
    page's new columns take their places exactly as in the exact path.

    The first page (and any page holding an attribute, map key or type tag
    the schema does not have yet) teaches the schema: from its first items
    (decoded one by one, exactly, with ``json``) and, if the rest of the page
    holds more, from all of it. :meth:`parse` gives what
    :meth:`FrameBuilder.add_items` takes: an :class:`ArrowItems`, or, when
    Arrow cannot be used, the page's items as ``json.loads`` gives them.

    ``predecode``: also decode each page's columns in the parsing thread
    (``numbers`` and ``flatten`` as the builder's). Worth it when several
    threads parse (a parallel scan): the caller's thread, which would
    otherwise decode every page, keeps losing the GIL to them between the
    many short calls that release it. With one parsing thread the caller
    decodes while the next page is parsed.
    """

    def __init__(
        self, *, numbers: str = "auto", flatten: bool = False, predecode: bool = False,
        _check: bool = True,
    ) -> None:
        self._numbers = numbers
        self._flatten = flatten
        self._predecode = predecode
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._versions: list[_Version] = []  # oldest first
        self._enabled = fast_lane_works() if _check else True
        self._learner: int | None = None  # seq of the first page being learned from
        self._parsed = 0
        self._failed = 0

    @property
    def enabled(self) -> bool:
        """Whether pages are still parsed with Arrow."""
        return self._enabled

    @property
    def counts(self) -> tuple[int, int]:
        """(pages parsed with Arrow, pages whose Arrow parse with a learned schema failed)."""
        return self._parsed, self._failed

    def _version_for(self, seq: int) -> _Version | None:
        for version in reversed(self._versions):
            if version.after < seq:
                return version
        return None

    def parse(self, items: Any, *, seq: int) -> Any:
        """Return the page at queue position ``seq``, parsed (threads may call this concurrently).

        While a thread learns the first schema from an earlier page, this one
        waits for it (a parallel scan's segments receive their first pages at
        about the same time: one learns, the others then use its schema).
        """
        if not isinstance(items, RawItems):
            return items
        if len(items) == 0:
            return []
        if len(items.data) < SMALL_PAGE_BYTES:
            return items.loads()  # json is as fast; Arrow's fixed costs are not worth it
        with self._lock:
            base = self._version_for(seq) if self._enabled else None
            waiting = self._learner is not None and self._learner < seq
            if base is None and self._enabled and waiting:
                self._changed.wait_for(
                    lambda: self._learner is None or not self._enabled,
                    timeout=LEARNER_WAIT_SECONDS,
                )
                base = self._version_for(seq) if self._enabled else None
            if base is None and self._enabled and self._learner is None:
                self._learner = seq
        try:
            page = self._parse(items, seq, base)
        finally:
            self._done_learning(seq)
        if self._predecode and isinstance(page, ArrowItems):
            # Decode here, in a parsing thread: the caller's thread then only
            # adds the columns (see ArrowItems.decode_columns).
            page.predecode(self._numbers, self._flatten)
        return page

    def _parse(self, items: RawItems, seq: int, base: _Version | None) -> Any:
        if not self._enabled or _needs_exact_path(items.data):
            return items.loads()
        if base is not None:
            parsed = self._parse_arrow(items, base.schema)
            if parsed is not None:
                return parsed
            with self._lock:
                self._failed += 1
                if self._failed >= MAX_FAILED_PAGES and self._failed > self._parsed:
                    self._enabled = False
                    return items.loads()
        else:
            # Learn from the first items only: usually they show every attribute.
            prefix = _first_items(items.data)
            first = _learn_page(prefix) if prefix else None
            if first is not None:
                # Published at once (the threads waiting for a schema go on
                # while this page is parsed): these items are this page's, so
                # their columns reach the builder first whatever happens next.
                self._publish(first, seq)
                self._done_learning(seq)
                shapes = _merged(None, first)
                if _nodes(shapes) <= MAX_SCHEMA_NODES:
                    parsed = self._parse_arrow(items, _schema_of(shapes), fresh=True)
                    if parsed is not None:
                        return parsed
        # Learn from the whole page, then parse it with what it taught.
        wire = items.loads()
        own = _learn_page(wire)
        if own is None:
            return wire
        shapes = _merged(base.shapes if base is not None else None, own)
        if _nodes(shapes) > MAX_SCHEMA_NODES:
            with self._lock:
                self._enabled = False
            return wire
        self._publish(own, seq)
        parsed = self._parse_arrow(items, _schema_of(shapes), fresh=base is None)
        return wire if parsed is None else parsed

    def _done_learning(self, seq: int) -> None:
        """Release other threads waiting on the page at ``seq`` for a schema."""
        with self._lock:
            if self._learner == seq:
                self._learner = None
                self._changed.notify_all()

    def _publish(self, shapes: dict[str, _Shape], seq: int) -> None:
        """Return a new schema version: the latest one plus ``shapes``, for pages after ``seq``."""
        with self._lock:
            latest = self._versions[-1] if self._versions else None
            merged = _merged(latest.shapes if latest is not None else None, shapes)
            if latest is not None and _nodes(merged) == _nodes(latest.shapes):
                return  # nothing new: the latest schema serves this page's successors
            if _nodes(merged) > MAX_SCHEMA_NODES:
                self._enabled = False
                return
            after = max(seq, latest.after) if latest is not None else seq
            self._versions.append(_Version(after, merged))
            del self._versions[:-VERSIONS_KEPT]

    def _parse_arrow(
        self, items: RawItems, schema: pa.Schema, *, fresh: bool = False
    ) -> ArrowItems | None:
        data = items.data
        try:
            table = pajson.read_json(
                pa.BufferReader(data),
                read_options=pajson.ReadOptions(use_threads=False, block_size=len(data) + 64),
                parse_options=pajson.ParseOptions(
                    explicit_schema=schema,
                    unexpected_field_behavior="error",
                    newlines_in_values=True,
                ),
            )
        except _PARSE_ERRORS:
            return None
        column = table.column(0)
        if table.num_rows != 1 or table.num_columns != 1 or column.null_count:
            return None
        lists = column.chunk(0) if column.num_chunks == 1 else None
        if lists is None:
            return None
        values = lists.values
        offsets = lists.offsets
        if offsets[0].as_py() != 0 or offsets[1].as_py() != items.count:
            return None
        struct = values.slice(0, items.count) if len(values) != items.count else values
        with self._lock:
            self._parsed += 1
        return ArrowItems(struct.slice(0, len(items)), items, 0, fresh)


_JSON_NULL = r"[\[:,]\s*null"


def _needs_exact_path(data: pa.Buffer | bytes) -> bool:
    """Whether a page holds what Arrow would read differently from ``json``.

    A JSON ``null`` value (Arrow reads it as an absent attribute; DynamoDB
    never sends one), or bytes that are not UTF-8 (Arrow's JSON reader keeps
    them, ``json`` refuses them). The exact path then handles (or rejects)
    the page; a false alarm (``:null`` inside a string) only costs speed.
    Both checks run in Arrow, with the GIL released.
    """
    buffer = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, buffer.size], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buffer])
    try:
        text = pc.cast(whole, pa.large_string())
    except _PARSE_ERRORS:
        return True
    if not pc.match_substring_regex(text, "null")[0].as_py():  # a literal: fast
        return False
    return bool(pc.match_substring_regex(text, _JSON_NULL)[0].as_py())


# --------------------------------------------------------------------------- #
# Parsed pages -> column segments
# --------------------------------------------------------------------------- #


class _Uncertain(XacctError):
    """The fast lane cannot decode this page with certainty."""


class ArrowItems:
    """A page of items parsed by Arrow (a struct array, one field per attribute).

    Sliceable by rows (``[a:b]``); :meth:`decode_columns` gives the page's
    column segments, :meth:`wire_items` the same rows the exact way.
    ``fresh``: the schema was learned from this page alone (its first page).

    A slice must go to a builder that already holds the rows before it
    (``_chunks`` adds a page's slices in order, ``limit`` keeps a prefix):
    the order of the columns a slice introduces relies on it.
    """

    __slots__ = ("decoded", "fresh", "raw", "start", "struct")

    def __init__(self, struct: pa.StructArray, raw: RawItems, start: int, fresh: bool) -> None:
        self.struct = struct
        self.raw = raw
        self.start = start
        self.fresh = fresh
        # (numbers, flatten, columns, first rows) once decoded; None if uncertain
        self.decoded: tuple[str, bool, _Columns | None] | None = None

    def __len__(self) -> int:
        return len(self.struct)

    def __getitem__(self, key: slice) -> ArrowItems:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("ArrowItems only supports [a:b]")
        a, b, _ = key.indices(len(self.struct))
        b = max(a, b)
        if a == 0 and b == len(self.struct):
            return self
        return ArrowItems(self.struct.slice(a, b - a), self.raw, self.start + a, self.fresh)

    def wire_items(self) -> list[Any]:
        """Return these rows as ``json.loads`` gives them (the exact path's input)."""
        with gc_paused():
            items = json.loads(bytes(self.raw.data))["Items"]
        return items[self.start : self.start + len(self.struct)]

    def predecode(self, numbers: str, flatten: bool) -> None:
        """Decode the columns now (in a parsing thread), for :meth:`decode_columns`."""
        with gc_paused():
            self.decoded = (numbers, flatten, self._columns(numbers, flatten))

    def _columns(self, numbers: str, flatten: bool) -> _Columns | None:
        try:
            return _decode_columns(self.struct, numbers, flatten)
        except Exception:  # noqa: BLE001 - anything unexpected: the exact path decides
            return None

    def decode_columns(
        self, numbers: str, flatten: bool, known: Container[str] = ()
    ) -> dict[str, tuple[Any, ...]] | None:
        """``{column: segment}`` in first-seen order, or ``None`` if not certain.

        ``known``: the columns the builder already has (their order is fixed).
        """
        decoded = self.decoded
        if decoded is not None and decoded[:2] == (numbers, flatten):
            columns = decoded[2]
        else:
            columns = self._columns(numbers, flatten)
        if columns is None:
            return None
        segments, firsts = columns
        if flatten and not self._order_certain(firsts, known):
            return None
        return segments

    def _order_certain(self, firsts: dict[str, tuple[int, int]], known: Container[str]) -> bool:
        """Whether the flattened columns this slice introduces are in first-seen order.

        Columns first seen in the same item (a tie) keep the schema's order.
        That is the item's own order when the schema learned all of them, and
        everything enclosing them (their attribute, their map entries), from
        that very item -- true in a page whose schema it taught alone
        (``fresh``) when all of that first appears in the tie's row. Not so
        otherwise: a new map key of an attribute seen before sits where that
        attribute sits in the schema. Without flattening every new column is
        an attribute the page introduces, learned from it in order: no check.
        """
        ties: dict[int, list[int]] = {}
        for name, (first, outer) in firsts.items():
            if name not in known:
                ties.setdefault(first, []).append(outer)
        for row, outers in ties.items():
            if len(outers) > 1 and not (
                self.fresh and self.start == 0 and all(o == row for o in outers)
            ):
                return False
        return True


#: A page's columns: ``{column: segment}`` in first-seen order, and for each
#: column its first row and the first row of its attribute / map entries.
_Columns = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[int, int]]]


def _validity(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=np.bool_)
    if arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=np.bool_)
    return arr.is_valid().to_numpy(zero_copy_only=False)


class _Values:
    """A struct array of DynamoDB values (``struct<S, N, ...>``) and each row's tag.

    ``tag[i]`` is the index in ``names`` of row i's type tag, -1 if absent.
    ``uniform``: the index of the one tag every row has (never absent), or -1.
    """

    __slots__ = ("arr", "names", "tag", "uniform")

    def __init__(self, arr: pa.StructArray, gate: np.ndarray | None) -> None:
        n = len(arr)
        # StructType.names is pyarrow 18+; field(i).name works from the declared floor
        names = [arr.type.field(i).name for i in range(arr.type.num_fields)]
        children = [arr.field(i) for i in range(len(names))]
        self.arr = arr
        self.names = names
        self.uniform = -1
        if gate is None and arr.null_count == 0:
            full = [i for i, c in enumerate(children) if c.null_count == 0]
            if len(full) == 1 and all(
                c.null_count == n for i, c in enumerate(children) if i != full[0]
            ):
                # Every row holds the same one tag (the common case).
                self.uniform = full[0]
                self.tag = np.full(n, full[0], dtype=np.int8)
                return
        valid = _validity(arr)
        if gate is not None:
            valid &= gate
        tag = np.full(n, -1, dtype=np.int8)
        count = np.zeros(n, dtype=np.int8)
        for i, child in enumerate(children):
            if child.null_count == n:
                continue
            has = _validity(child) & valid
            count += has
            tag[has] = i
        if (count[valid] != 1).any():
            raise _Uncertain  # a value with no type tag, or several
        self.tag = tag

    def without(self, name: str) -> _Values:
        """Return the same values with every ``name``-tagged row made absent."""
        other = object.__new__(_Values)
        other.arr, other.names, other.uniform = self.arr, self.names, -1
        other.tag = np.where(self.tag == self.names.index(name), -1, self.tag).astype(np.int8)
        return other


def _first_row(vals: _Values) -> int:
    """Return the first row holding a value (NULL included), or -1."""
    seen = vals.tag >= 0
    first = int(seen.argmax())
    return first if seen[first] else -1


def _decode_columns(struct: pa.StructArray, numbers: str, flatten: bool) -> _Columns:
    if struct.null_count:
        raise _Uncertain  # a null item
    # (name, values, first row of its attribute and enclosing map entries)
    columns: list[tuple[str, _Values, int]] = []
    for i in range(struct.type.num_fields):
        name = struct.type.field(i).name
        vals = _Values(struct.field(i), None)
        if flatten and "M" in vals.names:
            _flatten_into(columns, name, vals, _first_row(vals))
        else:
            columns.append((name, vals, _first_row(vals)))
    # First-seen order: by the first row holding them, then the schema's order
    # (see ArrowItems.decode_columns).
    firsts: list[tuple[int, int]] = []
    for j, (_, vals, _) in enumerate(columns):
        first = _first_row(vals)
        if first >= 0:
            firsts.append((first, j))
    firsts.sort()
    out: dict[str, tuple[Any, ...]] = {}
    rows: dict[str, tuple[int, int]] = {}
    for first, j in firsts:
        name, vals, outer = columns[j]
        if name in out:
            raise _Uncertain  # flattened names collide: order-dependent
        out[name] = _segment(vals, numbers)
        rows[name] = (first, outer)
    return out, rows


def _flatten_into(
    columns: list[tuple[str, _Values, int]], name: str, vals: _Values, outer: int
) -> None:
    m_index = vals.names.index("M")
    is_map = vals.tag == m_index
    if not is_map.any():
        columns.append((name, vals, outer))
        return
    columns.append((name, vals.without("M"), outer))
    entries = vals.arr.field(m_index)
    for i in range(entries.type.num_fields):
        key = entries.type.field(i).name
        sub = _Values(entries.field(i), is_map)
        first = _first_row(sub)
        entry_outer = min(outer, first) if first >= 0 else outer
        if "M" in sub.names:
            _flatten_into(columns, f"{name}.{key}", sub, entry_outer)
        else:
            columns.append((f"{name}.{key}", sub, entry_outer))


_INT_RE = r"^-?[0-9]+$"
_FLOAT_RE = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _segment(vals: _Values, numbers: str) -> tuple[Any, ...]:
    """One column of one page as a segment of :mod:`xacct_nb._decode`."""
    tag, names = vals.tag, vals.names
    n = len(tag)
    if vals.uniform >= 0 and names[vals.uniform] in ("S", "N", "BOOL"):
        name, child = names[vals.uniform], vals.arr.field(vals.uniform)
        if name == "S":
            return ("S", _strings(child))
        if name == "BOOL":
            return ("BOOL", child.to_numpy(zero_copy_only=False), None)
        return _numbers(child, None, numbers)
    null_index = names.index("NULL") if "NULL" in names else -2
    present = (tag >= 0) & (tag != null_index)
    if not present.any():
        return ("missing", n)
    kinds = np.flatnonzero(np.bincount(tag[present], minlength=len(names)))
    if len(kinds) == 1:
        kind = int(kinds[0])
        name = names[kind]
        if name in ("S", "N", "BOOL"):
            every = bool(present.all())
            mask = None if every else ~present
            child = vals.arr.field(kind)
            if child.null_count != n - int(present.sum()) or (
                not every and bool((_validity(child) & ~present).any())
            ):
                child = pc.if_else(pa.array(present), child, pa.scalar(None, child.type))
            if name == "S":
                return ("S", _strings(child))
            if name == "BOOL":
                data = child.fill_null(False).to_numpy(zero_copy_only=False)
                if mask is not None:
                    data = np.where(mask, False, data)
                return ("BOOL", data, mask)
            strings = child if every else child.filter(pa.array(present))
            return _numbers(strings, mask, numbers)
    return ("obj", _objects(vals, numbers))


def _strings(child: pa.Array) -> Any:
    import pandas as pd

    return pd.array(child, dtype=string_dtype())


def _none_false(mask: pa.BooleanArray) -> bool:
    """No row of a boolean array (without nulls) is false."""
    return mask.false_count == 0


def _numbers(strings: pa.Array, mask: np.ndarray | None, numbers: str) -> tuple[Any, ...]:
    """Return an ``("N", mask, sub, conv, exact)`` segment, as ``_decode_segment`` builds it.

    Arrow converts only what it reads exactly as Python does (plain decimal
    digits; decimal floats with an optional exponent); anything else takes
    the exact per-value conversion (:func:`~xacct_nb._decode.convert_numbers`).
    """
    if numbers == "decimal":
        return ("N", mask, "dec", list(map(Decimal, strings.to_pylist())), None)
    if numbers == "auto" and _none_false(pc.match_substring_regex(strings, _INT_RE)):
        # Only digits (no '.', 'e', 'E'): integers.
        try:
            ints = pc.cast(strings, pa.int64())
        except _PARSE_ERRORS:
            pass  # beyond int64: exact Python ints below
        else:
            return ("N", mask, "int", ints.to_numpy(zero_copy_only=False), None)
        sub, conv = convert_numbers(strings.to_pylist(), numbers)
        return ("N", mask, sub, conv, None)
    if not _none_false(pc.match_substring_regex(strings, _FLOAT_RE)):
        present = strings.to_pylist()
        sub, conv = convert_numbers(present, numbers)
        exact = integral_values(present, conv) if sub == "float" and numbers == "auto" else None
        return ("N", mask, sub, conv, exact)
    # Every string is a decimal number, not all plain digits: floats ("auto"
    # then needs the integers among them if the column ever mixes types).
    floats = pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
    exact = None
    if numbers == "auto":
        candidates = np.flatnonzero(np.floor(floats) == floats)  # as integral_values
        if len(candidates):
            texts = strings.take(pa.array(candidates)).to_pylist()
            idx: list[int] = []
            integers: list[int] = []
            for i, v in zip(candidates.tolist(), texts, strict=True):
                if not ("." in v or "e" in v or "E" in v):
                    idx.append(i)
                    integers.append(int(v))
            if idx:
                exact = (np.array(idx, dtype=np.intp), integers)
    return ("N", mask, "float", floats, exact)


def _objects(vals: _Values, numbers: str) -> list[Any]:
    """Each row's value as a Python object (None where absent or NULL)."""
    tag, names = vals.tag, vals.names
    n = len(tag)
    out: list[Any] = [None] * n
    for i, name in enumerate(names):
        if name == "NULL":
            continue
        rows = tag == i
        if not rows.any():
            continue
        values = _tag_objects(name, vals.arr.field(i), rows, numbers)
        if rows.all():
            out = values
        else:
            for r in np.flatnonzero(rows).tolist():
                out[r] = values[r]
    return out


def _lists(child: pa.ListArray, rows: np.ndarray) -> tuple[pa.Array, list[int]]:
    """Return the elements of the rows' lists, and offsets into them (per row, rebased)."""
    offsets = child.offsets.to_numpy(zero_copy_only=False)
    lengths = np.diff(offsets)
    if (lengths < 0).any():
        raise _Uncertain
    base = int(offsets[0])
    elements = child.values.slice(base, int(offsets[-1]) - base)
    if elements.null_count:
        # A null element is a JSON null (DynamoDB sends none); unless it
        # belongs to a row that is not a list here.
        inside = np.repeat(rows, lengths)
        if (~_validity(elements) & inside).any():
            raise _Uncertain
    return elements, (offsets - base).tolist()


def _python_values(arr: pa.Array, convert: Callable[[str], Any] | None = None) -> list[Any]:
    """``arr.to_pylist()`` (``convert`` applied to each non-null value).

    Values that repeat (a city, a status, a set's members) are converted
    once and shared, which saves memory and time: equal immutable objects
    (str, numbers, bytes), as the exact path's are, only not distinct ones.
    """
    n = len(arr)
    if n >= 32:
        encoded = pc.dictionary_encode(arr)
        distinct = encoded.dictionary
        if len(distinct) * 2 <= n:
            uniq = distinct.to_pylist()
            if convert is not None:
                uniq = list(map(convert, uniq))
            indices = encoded.indices
            if indices.null_count:
                uniq.append(None)
                indices = indices.fill_null(len(uniq) - 1)
            return list(map(uniq.__getitem__, indices.to_numpy(zero_copy_only=False).tolist()))
    values = arr.to_pylist()
    if convert is None:
        return values
    return [None if v is None else convert(v) for v in values]


def _tag_objects(name: str, child: pa.Array, rows: np.ndarray, numbers: str) -> list[Any]:
    """Python values of one type tag's column (meaningful at ``rows`` only)."""
    n = len(child)
    if name == "S":
        return _python_values(child)
    if name == "BOOL":
        return child.to_pylist()
    if name == "N":
        return _python_values(child, NUMBER_FUNCS[numbers])
    if name == "B":
        return _python_values(child, to_bytes)
    if name in ("SS", "NS", "BS"):
        elements, o = _lists(child, rows)
        convert = {"SS": None, "NS": NUMBER_FUNCS[numbers], "BS": to_bytes}[name]
        flat = _python_values(elements, convert)
        out: list[Any] = [None] * n
        for i in np.flatnonzero(rows).tolist():
            out[i] = set(flat[o[i] : o[i + 1]])
        return out
    if name == "L":
        elements, o = _lists(child, rows)
        inside = np.repeat(rows, np.diff(np.asarray(o)))
        elem_vals = _Values(elements, inside)
        if (elem_vals.tag[inside] < 0).any():
            raise _Uncertain
        flat = _objects(elem_vals, numbers)
        return [flat[o[i] : o[i + 1]] for i in range(n)]
    if name == "M":
        return _maps(child, rows, numbers)
    raise _Uncertain


def _maps(child: pa.StructArray, rows: np.ndarray, numbers: str) -> list[Any]:
    n = len(child)
    keys: list[str] = []
    cols: list[list[Any]] = []
    held: list[np.ndarray] = []
    for i in range(child.type.num_fields):
        entry = _Values(child.field(i), rows)
        seen = entry.tag >= 0
        if not seen.any():
            continue
        keys.append(child.type.field(i).name)
        cols.append(_objects(entry, numbers))
        held.append(seen)
    out: list[Any] = [None] * n
    if not keys:
        for r in np.flatnonzero(rows).tolist():
            out[r] = {}
        return out
    if len(keys) > 62:
        return [
            {k: c[r] for k, c, h in zip(keys, cols, held, strict=True) if h[r]} for r in range(n)
        ]
    pattern = np.zeros(n, dtype=np.int64)
    for bit, seen in enumerate(held):
        pattern |= seen.astype(np.int64) << bit
    full = (1 << len(keys)) - 1
    if bool((pattern[rows] == full).all()):
        return _make_dicts(keys, cols, n)  # rows that are not maps are ignored
    for p in np.unique(pattern[rows]).tolist():
        idx = np.flatnonzero(rows & (pattern == p)).tolist()
        sub = [b for b in range(len(keys)) if p >> b & 1]
        made = _make_dicts(
            [keys[b] for b in sub], [[cols[b][r] for r in idx] for b in sub], len(idx)
        )
        for r, d in zip(idx, made, strict=True):
            out[r] = d
    return out


def _make_dicts(keys: list[str], cols: list[list[Any]], n: int) -> list[dict[str, Any]]:
    """``[{keys[0]: cols[0][i], ...} for i in range(n)]`` (a dict display: 5x ``dict(zip())``)."""
    if not keys:
        return [{} for _ in range(n)]
    if len(keys) > 32:
        return [dict(zip(keys, t, strict=True)) for t in zip(*cols, strict=True)]
    return _dict_maker(len(keys))(*keys, *cols)


@functools.lru_cache(maxsize=32)
def _dict_maker(width: int) -> Callable[..., list[dict[str, Any]]]:
    """Return a function of (k0, ..., c0, ...) -> ``[{k0: v0, ...} for v0, ... in zip(c0, ...)]``.

    Compiled once per width; the source holds only generated variable names
    (never a key or a value).
    """
    ks = [f"k{i}" for i in range(width)]
    cs = [f"c{i}" for i in range(width)]
    vs = [f"v{i}" for i in range(width)]
    source = (
        f"def make({', '.join(ks + cs)}):\n"
        f"    return [{{{', '.join(f'{k}: {v}' for k, v in zip(ks, vs, strict=True))}}}"
        f" for ({', '.join(vs)},) in zip({', '.join(cs)})]\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<xacct_nb dict maker>", "exec"), namespace)  # noqa: S102 - generated names only
    return namespace["make"]
