"""Checks and conversions between Python values and core's JSON.

These check only what Python itself must know to convert a value (its
type; that a ``datetime`` has a time zone; that an ``int`` fits the
engine's integer); every rule about the values (lengths, required
comments, known kinds...) is core's.

A wrong Python type raises ``TypeError``; a value of the right type that
cannot be converted (a naive ``datetime``, an ``int`` beyond 64 bits, a
document nested too deeply) raises :class:`ValidationError`, as core's
own refusals do.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Iterable, List, NoReturn, Optional, Tuple, Union

from ._errors import ValidationError

# chrono writes RFC 3339 with "Z" and 0, 3, 6 or 9 fraction digits;
# datetime.fromisoformat takes "Z" and 9 digits only from Python 3.11 on.
_TIME = re.compile(r"^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def type_error(name: str, expected: str, value: object) -> NoReturn:
    raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def parse_time(text: str) -> datetime:
    """A core timestamp as an aware ``datetime`` in UTC."""
    if len(text) == 27 and text[-1] == "Z":
        # The usual shape, microseconds in UTC: "2026-03-01T09:00:00.123456Z".
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
    m = _TIME.match(text)
    if m is None:
        return datetime.fromisoformat(text)
    base, fraction, zone = m.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{base}.{micros}{offset}").astimezone(timezone.utc)


def format_time(value: object, name: str) -> str:
    """An aware ``datetime`` as RFC 3339; a naive one is refused, since
    the engine cannot know which time it means, and so is one whose UTC
    time falls outside the years 1 to 9999."""
    if not isinstance(value, datetime):
        type_error(name, "a datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"invalid {name}: {value.isoformat()} has no time zone "
            "(use an aware datetime, e.g. datetime.now(timezone.utc))",
            field=name,
        )
    try:
        return value.astimezone(timezone.utc).isoformat()
    except OverflowError:
        raise ValidationError(
            f"invalid {name}: {value.isoformat()} is outside the years 1 to 9999 in UTC",
            field=name,
        ) from None


def action_id(value: object, name: str = "id") -> Union[uuid.UUID, str]:
    """An action id: a ``uuid.UUID``, or a ``str`` core parses."""
    if isinstance(value, (uuid.UUID, str)):
        return value
    type_error(name, "a uuid.UUID or str", value)


def text(value: object, name: str) -> str:
    if not isinstance(value, str):
        type_error(name, "a str", value)
    return unicode(value, name)


def unicode(value: str, name: str) -> str:
    """``value`` if it is text UTF-8 can hold: a ``str`` may hold a lone
    surrogate (``"\\ud800"``, from ``surrogateescape`` or a JSON escape),
    which is no character and which the engine cannot be given."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValidationError(
                f"invalid {name}: {value[e.start]!r} at position {e.start} is a lone "
                "surrogate, not a character",
                field=name,
            ) from None
    return value


def optional_text(value: object, name: str) -> Optional[str]:
    return None if value is None else text(value, name)


I64 = (-(2**63), 2**63 - 1)
"""The range of the engine's signed integers (limits, seconds)."""
U64 = (0, 2**64 - 1)
"""The range of its unsigned ones (versions, sequence numbers)."""


def integer(value: object, name: str, bounds: Tuple[int, int] = I64) -> int:
    """An ``int`` (not a ``bool``) within ``bounds``, the range of the
    engine's integer it becomes; outside it, :class:`ValidationError`
    rather than ``OverflowError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        type_error(name, "an int", value)
    low, high = bounds
    if not low <= value <= high:
        raise ValidationError(
            f"invalid {name}: must be between {low} and {high}, got {value}", field=name
        )
    return value


def seconds(value: object, name: str) -> int:
    """A lease or TTL: a ``timedelta`` of whole seconds, or an ``int`` of
    seconds."""
    if isinstance(value, timedelta):
        if value % timedelta(seconds=1):
            raise ValidationError(
                f"invalid {name}: {value} is not a whole number of seconds", field=name
            )
        return value // timedelta(seconds=1)
    if isinstance(value, bool) or not isinstance(value, int):
        type_error(name, "a timedelta or int (seconds)", value)
    return integer(value, name)


def names(value: object, name: str) -> List[str]:
    """A filter field: one name (a ``str`` or ``str`` enum) or an iterable
    of names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [str(value)]
    if not isinstance(value, Iterable):
        type_error(name, "a str or an iterable of str", value)
    out = []
    for item in value:
        if not isinstance(item, str):
            type_error(f"each {name}", "a str", item)
        out.append(str(item))
    return out


def _default(value: object) -> Union[str, List[Any]]:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value, "datetime value")
    if isinstance(value, (set, frozenset)):
        # Its order is the hash's, which changes from run to run: stored as
        # a list it would differ from itself, and a retried proposal would
        # no longer be the same proposal.
        raise TypeError(f"a {type(value).__name__} has no order: give a list (sorted(...))")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _keys_are_text(value: object) -> None:
    """Refuses a mapping key that is not a ``str``: ``json`` would write
    ``1``, ``True`` or ``None`` as the text ``"1"``, ``"true"`` or
    ``"null"``, and what is read back would not be what was given. Called
    once the value encoded, so it holds no cycle."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, member in item.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"keys must be str, not {type(key).__name__} ({key!r}): "
                        "JSON would write it as text"
                    )
                if isinstance(member, (dict, list, tuple)):
                    stack.append(member)
        elif isinstance(item, (list, tuple)):
            stack.extend(m for m in item if isinstance(m, (dict, list, tuple)))


_ENCODER = json.JSONEncoder(default=_default, allow_nan=False, separators=(",", ":"))
"""What ``json.dumps`` with these options would build again on every call
(the encoder keeps no state between calls)."""


def dumps(value: object, name: str) -> str:
    """``value`` as JSON text for core, which parses it with its own
    checks (integers beyond 64 bits, duplicate keys and nesting past 128
    levels are refused there, never rounded or dropped). ``uuid.UUID`` and
    aware ``datetime`` values inside it become strings and tuples lists; a
    key that is not a ``str``, and a set, are a ``TypeError``."""
    try:
        text = _ENCODER.encode(value)
        _keys_are_text(value)
        return text
    except ValidationError:
        raise
    except RecursionError:
        raise ValidationError(
            f"invalid {name}: nests deeper than the engine's 128 levels", field=name
        ) from None
    except TypeError as e:
        raise TypeError(f"{name} must be JSON-serializable: {e}") from None
    except ValueError as e:
        raise ValidationError(f"invalid {name}: {e}", field=name) from None


def enum_or_str(enum: type[Enum], value: str) -> Any:
    """The member of ``enum`` with this value, or the string itself (for
    custom kinds)."""
    try:
        return enum(value)
    except ValueError:
        return value
