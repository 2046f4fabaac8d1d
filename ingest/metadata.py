"""Document metadata: YAML front matter or a `NAME.ext.meta.yaml` sidecar, validated."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from kb.schema import ACCESS_LEVELS, DOC_TYPES, DocumentMeta

SIDECAR_SUFFIX = ".meta.yaml"
KNOWN_FIELDS = ("title", "doc_type", "date", "organisations", "language", "access", "illustrative", "supersedes")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date is reported by field name."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class MetadataError(ValueError):
    """Invalid metadata; the message names the field."""


def sidecar_path(path: Path) -> Path:
    """Where the sidecar of `path` lives: `report.pdf` -> `report.pdf.meta.yaml`."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Separate YAML front matter from a text; returns (fields, body, body offset)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    return parse_yaml(match.group(1) or "", "front matter"), text[match.end():], match.end()


def parse_yaml(source: str, where: str) -> dict[str, Any]:
    """Parse a YAML mapping, turning syntax errors into a MetadataError."""
    try:
        data = yaml.load(source, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError:
        raise MetadataError(f"{where}: YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise MetadataError(f"{where}: invalid YAML{at} ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(f"{where}: expected 'field: value' lines, got a {type(data).__name__}")
    return data


def build_meta(fields: dict[str, Any], *, fallback_title: str, detect_language) -> tuple[DocumentMeta, list[str]]:
    """Validate raw fields into DocumentMeta; missing fields get defaults and a warning each.

    `detect_language` is called only when `language` is absent.
    """
    warnings: list[str] = []
    for name in KNOWN_FIELDS:
        # YAML aliases can make a small file expand into a huge nested list ("billion laughs"):
        # refuse containers before anything turns them into a string.
        if name != "organisations" and isinstance(fields.get(name), (list, dict)):
            raise MetadataError(f"{name}: expected a single value, got a {_kind(fields[name])}")
    unknown = sorted(set(fields) - set(KNOWN_FIELDS))
    if unknown:
        warnings.append(f"unknown metadata field(s) ignored: {', '.join(unknown)}")

    title = _title(fields.get("title"), fallback_title, warnings)
    doc_type = _choice(fields, "doc_type", DOC_TYPES, "other", "doc_type", warnings)
    doc_date = _parse_date(fields.get("date"))
    if doc_date is None:
        warnings.append("no date: the document is undated and date filters will skip it")
    organisations = _organisations(fields.get("organisations"))
    language = _language(fields.get("language"), detect_language, warnings)
    access = _choice(fields, "access", ACCESS_LEVELS, "internal", "access level", warnings)

    illustrative = fields.get("illustrative", False)
    if not isinstance(illustrative, bool):
        raise MetadataError(f"illustrative: {_shown(illustrative)} is not true or false")

    supersedes = fields.get("supersedes")
    if supersedes is not None and not isinstance(supersedes, str):
        raise MetadataError("supersedes: expected a document id (its path)")

    meta = DocumentMeta(
        title=title, doc_type=doc_type, date=doc_date, organisations=organisations,
        language=language, access=access, illustrative=illustrative, supersedes=supersedes,
    )
    return meta, warnings


def _title(value: Any, fallback: str, warnings: list[str]) -> str:
    if value is None or str(value).strip() == "":
        value = fallback
        warnings.append(f"no title: using {value!r}")
    return str(value).strip()


def _organisations(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, list) and all(isinstance(o, (str, int)) for o in value):
        return tuple(str(o).strip() for o in value if str(o).strip())
    raise MetadataError("organisations: expected a list of names")


def _language(value: Any, detect_language, warnings: list[str]) -> str:
    if value is None:
        value = detect_language()
        warnings.append(f"no language: detected {value!r}")
    elif not (isinstance(value, str) and re.fullmatch(r"[a-z]{2,3}", value)):
        raise MetadataError(f"language: {_shown(value)} is not a language code such as fr or en")
    return value


def _choice(fields: dict[str, Any], name: str, allowed: tuple[str, ...], default: str, label: str,
            warnings: list[str]) -> str:
    """A field that takes one of `allowed` values: default (with a warning) when absent."""
    value = fields.get(name)
    if value is None:
        warnings.append(f"no {label}: using {default!r}")
        return default
    if value not in allowed:
        raise MetadataError(f"{name}: {_shown(value)} is not one of {', '.join(allowed)}")
    return value


def _parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MetadataError(f"date: {_shown(text)} is not a valid ISO date (YYYY-MM-DD)") from None


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "mapping"


def _shown(value: Any, limit: int = 80) -> str:
    """A value as quoted in a message, cut short so a hostile file cannot flood the log."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]
