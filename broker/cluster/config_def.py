"""Kafka's configuration vocabulary: value types, sources, validators, parsing.

A :class:`ConfigDef` describes one config the way Kafka's ``ConfigDef.define`` does: a
name, a type, a default, a validator and its documentation. Parsing and validation
failures raise :class:`InvalidConfigError` (INVALID_CONFIG) with Kafka's wording, e.g.
``Invalid value abc for configuration retention.ms: Not a number of type LONG``, because
admin tools show that message to operators verbatim.

Values are kept as Kafka keeps them: strings as given where they are stored (metadata,
properties files), typed Python values (int, float, bool, str, tuple of str) once
parsed, and formatted back the way Java's ``ConfigDef.convertToString`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from broker.errors import BrokerError, ErrorCode

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
SHORT_MIN, SHORT_MAX = -(2**15), 2**15 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LIST_SEPARATOR = re.compile(r"\s*,\s*")


class ConfigType(IntEnum):
    """DescribeConfigs ``config_type`` numbers (Kafka's ``DescribeConfigsResponse.ConfigType``)."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


class ConfigSource(IntEnum):
    """Where a value comes from (Kafka's ``DescribeConfigsResponse.ConfigSource`` numbers)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


class InvalidConfigError(BrokerError):
    """A config name or value Kafka would refuse: INVALID_CONFIG with Kafka's message."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.invalid_config, message)


def invalid_value(name: str, value: object, reason: str) -> InvalidConfigError:
    """Kafka's ``ConfigException(name, value, message)`` wording."""
    return InvalidConfigError(f"Invalid value {value} for configuration {name}: {reason}")


# -- formatting ---------------------------------------------------------------------


def java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, ``1.0E-4`` style outside."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    fraction = mantissa[1:] or "0"
    return f"{'-' if sign else ''}{mantissa[0]}.{fraction}E{exponent + len(mantissa) - 1}"


def format_value(config_type: ConfigType, value: object) -> str | None:
    """A parsed value as Kafka prints it (``ConfigDef.convertToString``)."""
    if value is None:
        return None
    if config_type == ConfigType.BOOLEAN:
        return "true" if value else "false"
    if config_type == ConfigType.DOUBLE:
        assert isinstance(value, (int, float))
        return java_double(float(value))
    if config_type == ConfigType.LIST:
        assert isinstance(value, (list, tuple))
        return ",".join(value)
    return str(value)


# -- validators ---------------------------------------------------------------------

Validator = Callable[[str, object], None]
"""Called with (name, parsed value); raises :class:`InvalidConfigError`."""


def _number(value: object) -> str:
    return java_double(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class Range:
    """Kafka's ``ConfigDef.Range``: ``atLeast(min)`` or ``between(min, max)``."""

    minimum: int | float | None = None
    maximum: int | float | None = None

    def __call__(self, name: str, value: object) -> None:
        assert isinstance(value, (int, float))
        if self.minimum is not None and value < self.minimum:
            raise invalid_value(name, _number(value), f"Value must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise invalid_value(name, _number(value), f"Value must be no more than {self.maximum}")


def at_least(minimum: int | float) -> Range:
    return Range(minimum=minimum)


def between(minimum: int | float, maximum: int | float) -> Range:
    return Range(minimum=minimum, maximum=maximum)


@dataclass(frozen=True, slots=True)
class OneOf:
    """Kafka's ``ValidString.in(...)`` (case-sensitive)."""

    options: tuple[str, ...]

    def __call__(self, name: str, value: object) -> None:
        if value not in self.options:
            raise invalid_value(name, value, f"String must be one of: {', '.join(self.options)}")


@dataclass(frozen=True, slots=True)
class ListOf:
    """Kafka's ``ValidList.in(...)``: every element must be one of the options."""

    options: tuple[str, ...]

    def __call__(self, name: str, value: object) -> None:
        assert isinstance(value, (list, tuple))
        for item in value:
            OneOf(self.options)(name, item)


# -- definitions --------------------------------------------------------------------


def parse_value(name: str, config_type: ConfigType, raw: str) -> object:
    """Kafka's ``ConfigDef.parseType`` for a string value (whitespace around it ignored)."""
    text = raw.strip()
    if config_type == ConfigType.BOOLEAN:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise invalid_value(name, raw, "Expected value to be either true or false")
    if config_type in (ConfigType.INT, ConfigType.SHORT, ConfigType.LONG):
        low, high = {
            ConfigType.INT: (INT_MIN, INT_MAX),
            ConfigType.SHORT: (SHORT_MIN, SHORT_MAX),
            ConfigType.LONG: (LONG_MIN, LONG_MAX),
        }[config_type]
        if _INTEGER.fullmatch(text) and low <= int(text) <= high:
            return int(text)
        raise invalid_value(name, raw, f"Not a number of type {config_type.name}")
    if config_type == ConfigType.DOUBLE:
        if _DOUBLE.fullmatch(text):
            return float(text)
        raise invalid_value(name, raw, "Not a number of type DOUBLE")
    if config_type == ConfigType.LIST:
        return () if not text else tuple(_LIST_SEPARATOR.split(text))
    return text


@dataclass(frozen=True, slots=True)
class ConfigDef:
    """One config: ``default`` is the parsed default, ``None`` when there is none."""

    name: str
    type: ConfigType
    default: object
    doc: str
    validator: Validator | None = None

    def parse(self, raw: str) -> object:
        """Parse and validate a string value; raises :class:`InvalidConfigError`."""
        value = parse_value(self.name, self.type, raw)
        if self.validator is not None:
            self.validator(self.name, value)
        return value

    def format(self, value: object) -> str | None:
        return format_value(self.type, value)

    @property
    def default_string(self) -> str | None:
        return self.format(self.default)


def definitions(*defs: ConfigDef) -> dict[str, ConfigDef]:
    """Name -> definition, in definition order (the order Kafka validates in)."""
    table: dict[str, ConfigDef] = {}
    for item in defs:
        if item.name in table:
            raise ValueError(f"config {item.name} defined twice")
        table[item.name] = item
    return table


def split_list(value: str | None) -> list[str]:
    """The elements of a LIST config's stored string (APPEND/SUBTRACT work on these)."""
    if value is None or not value.strip():
        return []
    return _LIST_SEPARATOR.split(value.strip())


def ordered(names: Sequence[str], table: dict[str, ConfigDef]) -> list[str]:
    """``names`` that ``table`` defines, in definition order."""
    wanted = set(names)
    return [name for name in table if name in wanted]
