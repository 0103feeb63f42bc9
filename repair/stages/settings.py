"""The settings in force: one frozen object per stage, every tunable number a named, documented field.

Defaults live in the stage modules (`NormalizeSettings` in ``normalize`` and so on); what is
fitted lives in data files, read over the defaults once, at the edge (`load_settings`, called
by `repair.pipeline`), and handed down. A data file ``repair/data/STAGE.json`` holds values of
that stage's fields in the layout `Settings.to_json` prints (nested objects for nested settings;
a mapping's entries are merged key by key) plus an optional ``"info"`` object saying where they
came from: ``repair/data/detect.json`` holds the detectors' fitted models, and a fit of another
stage's numbers drops its file beside it. ``REPAIR_SETTINGS`` names one more file, in the full
layout (every stage at the top), read last: a run's variant without an edit to the code.
``repair fix --show-settings`` prints the result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from repair.files.textio import InputError, read_json
from repair.stages.align import AlignSettings
from repair.stages.decide import DecideSettings
from repair.stages.detect import DetectSettings
from repair.stages.label import LabelSettings
from repair.stages.normalize import NormalizeSettings
from repair.stages.propose import ProposeSettings
from repair.stages.witness import WitnessSettings

DATA = Path(__file__).resolve().parents[1] / "data"
ENV = "REPAIR_SETTINGS"
INFO = "info"  # a data file's account of where its numbers came from: not a setting


@dataclass(frozen=True)
class Settings:
    """Every stage's settings, in pipeline order."""

    normalize: NormalizeSettings
    align: AlignSettings
    label: LabelSettings
    witness: WitnessSettings
    detect: DetectSettings
    propose: ProposeSettings
    decide: DecideSettings

    def to_json(self) -> dict[str, Any]:
        """The settings as plain JSON data (`from_json` reads it back)."""
        return _plain(self)  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls, data: Mapping[str, Any], base: Settings | None = None, *, name: str = "settings") -> Settings:
        """Settings from JSON data: every field given, or (with ``base``) those given over ``base``'s."""
        try:
            return _build(cls, data, base, "")  # type: ignore[no-any-return]
        except _Wrong as exc:
            raise InputError(f"{name}: {exc}") from None


def load_settings(data: Path = DATA, extra: Path | None = None) -> Settings:
    """The defaults, each stage's data file in ``data`` over them, then ``extra`` (a file in the full layout)."""
    found: dict[str, Any] = {}
    for f in fields(Settings):
        path = data / f"{f.name}.json"
        if path.exists():
            found[f.name] = {k: v for k, v in _read(path).items() if k != INFO}
    settings = Settings.from_json(found, name=str(data))
    if extra is not None:
        settings = Settings.from_json(_read(extra), settings, name=str(extra))
    return settings


@lru_cache(maxsize=4)
def _load(extra: str) -> Settings:
    return load_settings(DATA, Path(extra) if extra else None)


def default_settings() -> Settings:
    """The shipped settings, with the file ``REPAIR_SETTINGS`` names over them: read once per process."""
    return _load(os.environ.get(ENV, "").strip())


def _read(path: Path) -> dict[str, Any]:
    if not os.path.lexists(path):
        raise InputError(f"settings file not found: {path} (from {ENV})")
    data = read_json(path, what="settings")  # a regular file, JSON without NaN or nesting past reason
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a settings file: not a JSON object")
    return data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class _Wrong(ValueError):
    """A settings value that does not fit; the message says where, as ``stage.field``."""


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _build(cls: type, data: Any, base: Any, where: str) -> Any:
    """An instance of the settings dataclass ``cls`` from ``data``: each field given there, else ``base``'s,
    else its default; an unknown name or a value of the wrong type is an error naming where it is."""
    if not isinstance(data, Mapping):
        raise _Wrong(f"{where or 'settings'}: expected an object, got {data!r}")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise _Wrong(f"unknown setting {', '.join(_at(where, n) for n in unknown)} (known: {', '.join(sorted(names))})")
    values: dict[str, Any] = {}
    for f in fields(cls):
        old = getattr(base, f.name) if base is not None else None
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name], old, _at(where, f.name))
        elif base is not None:
            values[f.name] = old
        elif f.default is MISSING and f.default_factory is MISSING and is_dataclass(hints[f.name]):
            values[f.name] = _build(hints[f.name], {}, None, _at(where, f.name))  # a stage's settings: its defaults
    try:
        return replace(base, **values) if base is not None else cls(**values)
    except TypeError as exc:  # a field with no default that no file gave
        raise _Wrong(f"{where or 'settings'}: {exc}") from exc


def _value(hint: Any, raw: Any, old: Any, where: str) -> Any:
    origin = get_origin(hint)
    if isinstance(hint, type) and is_dataclass(hint):
        return _build(hint, raw, old, where)
    if origin is tuple:
        if not isinstance(raw, list | tuple):
            raise _Wrong(f"{where}: expected a list, got {raw!r}")
        return tuple(_value(get_args(hint)[0], v, None, f"{where}[{i}]") for i, v in enumerate(raw))
    if origin in (Mapping, dict):
        if not isinstance(raw, Mapping):
            raise _Wrong(f"{where}: expected an object, got {raw!r}")
        key_hint, value_hint = get_args(hint)
        allowed = get_args(key_hint) if get_origin(key_hint) is Literal else ()
        strange = sorted(str(k) for k in raw if allowed and k not in allowed)
        if strange:
            raise _Wrong(f"{where}: unknown key {', '.join(strange)} (known: {', '.join(allowed)})")
        merged = dict(old) if old is not None else {}
        merged.update({str(k): _value(value_hint, v, None, f"{where}.{k}") for k, v in raw.items()})
        return merged
    if hint is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if hint is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if hint in (str, bool) and isinstance(raw, hint):
        return raw
    raise _Wrong(f"{where}: expected {getattr(hint, '__name__', hint)}, got {raw!r}")
