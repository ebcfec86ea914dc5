"""Text PostgreSQL cannot store: a NUL character (U+0000) in any text or jsonb value, and a lone
UTF-16 surrogate (which is not UTF-8 at all). SQLite stores both, so tests there do not notice."""

from __future__ import annotations

NUL = "\x00"


def unstorable(value: str) -> bool:
    if NUL in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. "\ud800" in JSON
        return True
    return False


def contains_unstorable_text(data) -> bool:
    """Any key or string value of decoded JSON, at any depth, that PostgreSQL cannot store."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return True
        elif isinstance(item, dict):
            for key, value in item.items():
                if unstorable(key):
                    return True
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return False
