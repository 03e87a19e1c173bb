"""Projections with linked entities (clause 4.21) and linked entity retrieval (clause 4.5.23).

``pick``/``omit`` name entity members (``id``, ``type``, ``scope``, attributes); a member followed
by braces projects the entities that its Relationship links to, e.g.
``id,locatedAt{id,name,isInCountry{description}}``. ``join=inline`` puts each linked entity in its
Relationship (``entity`` member, or in place of the object id in keyValues); ``join=flat`` answers
the linked entities next to the linking ones. ``joinLevel`` (default 1) says how deep to follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from saola.context.errors import BadRequestData
from saola.context.normalize import check_name

# name → projection of the entities linked through it (None: no braces)
Projection = dict[str, "Projection | None"]
CORE_MEMBERS = ("id", "type", "scope")
JOINS = ("flat", "inline", "@none")
MAX_JOIN_LEVEL = 16


def parse_projection(text: str, what: str) -> Projection:
    """Parse a pick/omit expression; BadRequestData for empty members, stray or unclosed braces."""
    tokens = re.findall(r"[{},]|[^{},]+", text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str | None:
        nonlocal position
        position += 1
        return tokens[position - 1] if position <= len(tokens) else None

    def members(depth: int) -> Projection:
        if depth > MAX_JOIN_LEVEL:
            raise BadRequestData(f"{what} is nested too deeply")
        out: Projection = {}
        while True:
            token = take()
            if token is None or token in "{},":
                raise BadRequestData(f"{what} has an empty member or a misplaced brace or comma")
            name = check_name(token, f"member in {what}")
            child = None
            if peek() == "{":
                take()
                child = members(depth + 1)
                if take() != "}":
                    raise BadRequestData(f"{what} has an unclosed brace")
            out[name] = child
            if peek() != ",":
                return out
            take()

    tree = members(0)
    if position != len(tokens):
        raise BadRequestData(f"{what} has a misplaced brace")
    return tree


def expand_projection(tree: Projection, expand: Callable[[str], str]) -> Projection:
    return {(name if name in CORE_MEMBERS else expand(name)):
            (expand_projection(child, expand) if child is not None else None) for name, child in tree.items()}


def parse_join(join: str | None, join_level: str | None) -> tuple[str | None, int]:
    if join in (None, ""):
        join = None
    elif join not in JOINS:
        raise BadRequestData("join must be flat, inline or @none")
    level = 1
    if join_level not in (None, ""):
        try:
            level = int(join_level)
        except ValueError:
            raise BadRequestData("joinLevel must be a positive integer") from None
        if level < 1:
            raise BadRequestData("joinLevel must be a positive integer")
        level = min(level, MAX_JOIN_LEVEL)
    return (None if join == "@none" else join), level


def relationship_targets(instances: list[dict[str, Any]]) -> list[str]:
    """The entity ids that the Relationship instances of one attribute point to."""
    out: list[str] = []
    for inst in instances:
        if inst.get("type") != "Relationship":
            continue
        target = inst.get("object")
        for item in target if isinstance(target, list) else [target]:
            if isinstance(item, str):
                out.append(item)
    return out
