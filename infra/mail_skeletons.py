"""Messages of one shape rendered once, then filled in for each recipient.

A transition mails thousands of messages of one kind that differ only in values the
templates print as they are (``{{ partner_name }}``): names, addresses, institutions.
Any other use of a value (a filter, a test, a condition, a loop, an assignment) can change
the text around it, so those values make a message's *shape*, with the keys it was given.

When a shape comes round a second time it is rendered once with a marker in place of
each plain value; the text between the markers is kept as its skeleton, which is checked
against the full rendering of that message before it is used. Every later message of the
shape is its skeleton with its own values put in, escaped exactly as Jinja escapes them
(``markupsafe.escape`` where the template autoescapes, ``str`` elsewhere). A kind whose
templates the analysis cannot follow (a computed include, an import), or a shape holding
a value it cannot compare exactly, is always rendered in full.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Environment, nodes
from markupsafe import escape

_MARK = "\x00"  # never in a template's text, untouched by escaping, refused in stored values
_TRANSPARENT = (nodes.Template, nodes.Output, nodes.If, nodes.For, nodes.Block)
_OPAQUE = (nodes.Import, nodes.FromImport)
_SHAPES_KEPT = 256
_EXACT = (str, int, bool, dt.date, type(None))

Render = Callable[[Mapping[str, object]], list[str]]
ShapeKey = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class TemplateNames:
    """The context names a group of templates prints as they are, and whether every one
    of them autoescapes alike (None: mixed, so no skeleton)."""

    plain: frozenset[str]
    autoescape: tuple[bool, ...] | None


def _walk(node: nodes.Node, clear: bool, plain: set[str], other: set[str]) -> Iterator[str]:
    """Sort each name of ``node`` into printed as it is, or used otherwise; yields the
    names of the templates it extends or includes (raises ValueError if computed)."""
    if isinstance(node, _OPAQUE):
        raise ValueError("imports are not followed")
    if isinstance(node, (nodes.Extends, nodes.Include)):
        if not isinstance(node.template, nodes.Const) or not isinstance(node.template.value, str):
            raise ValueError("a computed template name is not followed")
        yield node.template.value
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Name):
            printed = clear and isinstance(node, nodes.Output) and child.ctx == "load"
            (plain if printed else other).add(child.name)
        yield from _walk(child, clear and isinstance(child, _TRANSPARENT), plain, other)


def template_names(env: Environment, names: Sequence[str]) -> TemplateNames | None:
    """What the templates ``names`` (and all they extend or include) print plainly; None
    when they cannot be followed."""
    plain: set[str] = set()
    other: set[str] = set()
    escapes: list[bool] = []
    for top in names:
        seen: set[str] = set()
        todo = [top]
        modes: set[bool] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            assert env.loader is not None
            source, _, _ = env.loader.get_source(env, name)
            try:
                todo.extend(_walk(env.parse(source, name), True, plain, other))
            except ValueError:
                return None
            mode = env.autoescape(name) if callable(env.autoescape) else env.autoescape
            modes.add(bool(mode))
        if len(modes) != 1:
            return TemplateNames(frozenset(), None)
        escapes.append(modes.pop())
    return TemplateNames(frozenset(plain - other), tuple(escapes))


@dataclass(frozen=True)
class Skeleton:
    """One shape's text per template: literal pieces, and between them the plain names."""

    pieces: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    autoescape: tuple[bool, ...]

    def fill(self, context: Mapping[str, object]) -> list[str]:
        """The shape's texts with this message's plain values put in."""
        shown = {name: str(context[name]) for name in self.names}
        escaped = {name: str(escape(context[name])) for name in self.names}
        out: list[str] = []
        for (literals, slots), autoescape in zip(self.pieces, self.autoescape, strict=True):
            values = escaped if autoescape else shown
            parts = [""] * (2 * len(slots) + 1)  # literal, value, literal, …, literal
            parts[0::2] = literals
            parts[1::2] = [values[name] for name in slots]
            out.append("".join(parts))
        return out

    @functools.cached_property
    def names(self) -> frozenset[str]:
        return frozenset(name for _, slots in self.pieces for name in slots)


def _split(text: str, slots: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """A text rendered with markers: its literal pieces and the names between them."""
    pieces = text.split(_MARK)
    if len(pieces) % 2 == 0:
        return None
    names: list[str] = []
    for marker in pieces[1::2]:
        if not marker.isdigit() or int(marker) >= len(slots):
            return None
        names.append(slots[int(marker)])
    return tuple(pieces[0::2]), tuple(names)


def _exact(value: object) -> object:
    """What tells two values apart as the templates would: the value with its type, and
    a time's zone and fold (aware times of one instant compare equal across zones)."""
    kind = type(value)
    if kind is dt.datetime:
        assert isinstance(value, dt.datetime)
        return (kind, value, value.tzinfo, value.fold)
    if kind in _EXACT or isinstance(value, str):
        return (kind, value)
    raise TypeError(kind)


class Skeletons:
    """The skeletons of one set of templates (one message kind), made as shapes repeat."""

    def __init__(self, names: TemplateNames, render: Render) -> None:
        self.plain = names.plain
        self.autoescape = names.autoescape
        self.render = render
        self.seen: dict[ShapeKey, Skeleton | bool] = {}  # True: seen once; False: no skeleton
        self.lock = threading.Lock()

    def shape(self, context: Mapping[str, object]) -> ShapeKey | None:
        """The context's keys, with the value of each that is not printed plainly."""
        plain = self.plain
        try:
            return tuple(sorted((k, None if k in plain else _exact(v)) for k, v in context.items()))
        except TypeError:  # a list, a dict: no exact comparison, so no shape
            return None

    def render_message(self, context: Mapping[str, object]) -> list[str]:
        """The templates' texts for ``context``, from its shape's skeleton when there is one."""
        key = self.shape(context) if self.autoescape else None
        if key is None:
            return self.render(context)
        known = self.seen.get(key)
        if isinstance(known, Skeleton):
            return known.fill(context)
        texts = self.render(context)
        if known is False:  # a shape whose skeleton did not match its rendering
            return texts
        with self.lock:
            if len(self.seen) >= _SHAPES_KEPT:
                self.seen.clear()
            # Seen once: remember it; seen again, it is worth a skeleton.
            self.seen[key] = True if known is None else (self._skeleton(context, texts) or False)
        return texts

    def _skeleton(self, context: Mapping[str, object], texts: list[str]) -> Skeleton | None:
        """The shape of ``context`` rendered with markers, if it gives back ``texts``."""
        assert self.autoescape is not None
        slots = sorted(k for k in context if k in self.plain)
        marked = {**context, **{k: f"{_MARK}{i}{_MARK}" for i, k in enumerate(slots)}}
        if any(_MARK in str(v) for k, v in context.items() if k not in self.plain):
            return None
        pieces = []
        for text in self.render(marked):
            split = _split(text, slots)
            if split is None:
                return None
            pieces.append(split)
        skeleton = Skeleton(tuple(pieces), self.autoescape)
        return skeleton if skeleton.fill(context) == texts else None


def skeletons_for(env: Environment, names: Sequence[str], render: Render) -> Skeletons:
    """Skeletons for the templates ``names``, rendered (in full) by ``render``."""
    found = template_names(env, names)
    return Skeletons(found or TemplateNames(frozenset(), None), render)
