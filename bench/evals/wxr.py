"""Evaluation of the WordPress WXR reader on public labelled data.

Run from the repository root: ``python -m bench.evals.wxr [--data ../shared/data]``.

1. wp-importer-wxr (31 files, 133 checks): :func:`corpusclean.sources.wxr.parse_wxr` on every
   fixture of the WordPress importer's test suite, and every check of ``expectations.json``
   (transcribed from its PHPUnit assertions) run against the result. How the checks are read:

   - paths address the importer's array shape; ``posts[post_id=13]`` selects the post with that
     id, ``terms[domain=post_tag]`` filters a list (a following ``.slug`` maps over it),
     ``postmeta[evil]`` is the value of the meta entry with that key, ``categories[alpha]`` /
     ``tags[tag1]`` the term with that slug (``.name`` = its ``cat_name`` / ``tag_name``),
     ``authors.*`` the list of authors, ``users.`` = ``authors.``; ``comments (all posts)`` is
     every comment of every post, ``categories (after import)`` / ``tags (after import)`` the
     distinct slugs defined in the channel or used by an item (what exists after an import);
   - values compare as PHPUnit's ``assertEquals`` does (the transcribed assertions use it):
     ``2 == "2"``. Empty lists count as absent keys, because the PHP parser creates a key such
     as ``termmeta`` only when there is an entry and our parser always has it;
   - ``error``: parsing must raise, with a message that starts with the importer's message;
   - ``php_unserialize_*``: a small PHP ``unserialize`` below (test code, no dependency).

2. wpextract-site: the site's WXR export against ``cases.jsonl`` (its 54 posts and 16 pages
   from the REST API): every id present with the same type and status, titles equal after
   ``html.unescape`` (REST titles are texturized: WordPress turns `` - `` into `` – ``, and
   the export has the raw title, so differences of only that kind are counted apart, not
   hidden), ``post_date_gmt`` = REST ``date_gmt``, author and term ids, and through the reader
   (:func:`corpusclean.sources.wxr.wxr_records`) that exactly these 70 items are kept.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_DATA
from corpusclean.config import ReadConfig
from corpusclean.records import Record
from corpusclean.sources.files import InputFile
from corpusclean.sources.wxr import WxrError, load_wxr, parse_wxr, wxr_records

_MISSING = object()


# --------------------------------------------------------------------------- PHP unserialize


def php_unserialize(text: str) -> Any:
    """PHP's ``unserialize`` for the scalar and array values WordPress stores in meta
    (``s`` lengths are in UTF-8 bytes). Arrays become dicts.

    >>> php_unserialize('a:2:{s:3:"key";s:13:"¯\\\\_(ツ)_/¯";i:0;b:1;}')
    {'key': '¯\\\\_(ツ)_/¯', 0: True}
    """
    data = text.encode("utf-8")
    value, end = _php_value(data, 0)
    if end != len(data):
        raise ValueError(f"trailing data at byte {end}")
    return value


def _php_value(data: bytes, pos: int) -> tuple[Any, int]:
    kind = data[pos : pos + 1]
    if kind == b"N":
        if data[pos : pos + 2] != b"N;":
            raise ValueError(f"bad null at byte {pos}")
        return None, pos + 2
    if kind in (b"b", b"i", b"d"):
        end = data.index(b";", pos)
        raw = data[pos + 2 : end].decode("ascii")
        value: Any = bool(int(raw)) if kind == b"b" else int(raw) if kind == b"i" else float(raw)
        return value, end + 1
    if kind == b"s":
        colon = data.index(b":", pos + 2)
        length = int(data[pos + 2 : colon])
        start = colon + 2  # after ':"'
        if data[colon + 1 : start] != b'"' or data[start + length : start + length + 2] != b'";':
            raise ValueError(f"bad string at byte {pos}")
        return data[start : start + length].decode("utf-8"), start + length + 2
    if kind == b"a":
        colon = data.index(b":", pos + 2)
        count = int(data[pos + 2 : colon])
        if data[colon + 1 : colon + 2] != b"{":
            raise ValueError(f"bad array at byte {pos}")
        pos = colon + 2
        result: dict[Any, Any] = {}
        for _ in range(count):
            key, pos = _php_value(data, pos)
            result[key], pos = _php_value(data, pos)
        if data[pos : pos + 1] != b"}":
            raise ValueError(f"bad array end at byte {pos}")
        return result, pos + 1
    raise ValueError(f"unsupported PHP value {kind!r} at byte {pos}")


# --------------------------------------------------------------------------- paths


_SEGMENT = re.compile(r"([^.\[\]]*)((?:\[[^\]]*\])*)")
#: What ``.name`` / ``.slug`` mean on a category, tag or term definition.
_ALIASES = {"name": ("cat_name", "tag_name", "term_name"), "slug": ("category_nicename", "tag_slug")}
#: The field a ``[word]`` selector matches on, by kind of list.
_KEY_FIELDS = ("key", "category_nicename", "tag_slug", "slug", "author_login")


def _segments(path: str) -> list[tuple[str, list[str]]]:
    parts = []
    for raw in re.findall(r"[^.\[]+(?:\[[^\]]*\])*|(?:\[[^\]]*\])+", path):
        match = _SEGMENT.fullmatch(raw)
        if match is None:
            raise ValueError(f"bad path segment {raw!r}")
        parts.append((match.group(1), re.findall(r"\[([^\]]*)\]", match.group(2))))
    return parts


def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        for alias in _ALIASES.get(name, ()):
            if alias in value:
                return value[alias]
    return _MISSING


def _select(value: Any, selector: str) -> Any:
    if not isinstance(value, list):
        return _MISSING
    if selector.isdigit():
        index = int(selector)
        return value[index] if index < len(value) else _MISSING
    if "=" in selector:
        key, wanted = selector.split("=", 1)
        matches = [item for item in value if isinstance(item, dict) and str(item.get(key)) == wanted]
        if key == "post_id":  # ids are unique: one post, not a list
            return matches[0] if matches else _MISSING
        return matches
    for item in value:
        if isinstance(item, dict):
            for key in _KEY_FIELDS:
                if item.get(key) == selector:
                    return item["value"] if key == "key" else item
    return _MISSING


def resolve(parsed: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in a parse result (``_MISSING`` when there is none)."""
    if path == "$":
        return parsed
    if path == "comments (all posts)":
        return [comment for post in parsed["posts"] for comment in post.get("comments", [])]
    if path in ("categories (after import)", "tags (after import)"):
        categories = path.startswith("categories")
        defined = [c["category_nicename"] for c in parsed["categories"]] if categories else []
        defined += [] if categories else [t["tag_slug"] for t in parsed["tags"]]
        domains = ("category",) if categories else ("post_tag", "tag")
        used = [t["slug"] for p in parsed["posts"] for t in p.get("terms", []) if t.get("domain") in domains]
        return sorted(set(defined) | set(used))
    path = re.sub(r"^users\.", "authors.", path)
    value: Any = parsed
    mapped = False  # value is a list produced by '*' or a filter: fields map over it
    for name, selectors in _segments(path):
        if name == "*":
            value, mapped = list(value.values()) if isinstance(value, dict) else _MISSING, True
        elif name:
            if mapped and isinstance(value, list):
                value = [_field(item, name) for item in value]
                value = [item for item in value if item is not _MISSING]
            else:
                value = _field(value, name)
            mapped = False
        for selector in selectors:
            value = _select(value, selector)
            mapped = isinstance(value, list) and ("=" in selector)
        if value is _MISSING:
            return _MISSING
    return value


# --------------------------------------------------------------------------- comparisons


def _empty(value: Any) -> bool:
    return value is _MISSING or value is None or value == "" or value == [] or value == {}


def same(expected: Any, actual: Any) -> bool:
    """PHPUnit's ``assertEquals``: numbers equal numeric strings; dicts ignore keys whose
    value is an empty list (the PHP parser has no such key)."""
    if isinstance(expected, bool) or expected is None:
        return expected == actual
    if isinstance(expected, (int, float)):
        if isinstance(actual, str):
            try:
                return float(actual.strip()) == expected
            except ValueError:
                return False
        return actual == expected
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        actual = {k: v for k, v in actual.items() if not (v == [] and k not in expected)}
        return set(expected) == set(actual) and all(same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return expected == actual


def subset(expected: dict[str, Any], actual: Any) -> bool:
    """Every listed key equal; an expected null matches a missing or empty value."""
    if not isinstance(actual, dict):
        return False
    for key, value in expected.items():
        got = actual.get(key, _MISSING)
        if value is None:
            if not _empty(got):
                return False
        elif got is _MISSING or not same(value, got):
            return False
    return True


def run_check(check: dict[str, Any], parsed: dict[str, Any] | None, error: Exception | None) -> tuple[bool, Any]:
    """``(passed, actual value)`` of one check."""
    op, expected = check["op"], check["value"]
    if op == "error":
        if error is None:
            return False, "parsed without error"
        return str(error).startswith(expected), str(error)
    if error is not None or parsed is None:
        return False, f"{type(error).__name__}: {error}"
    if op == "parses_without_warnings":
        issues = parsed.get("_errors", [])
        return (not issues) == bool(expected), [str(i) for i in issues]
    actual = resolve(parsed, check["path"])
    if actual is _MISSING:
        return False, "(missing)"
    if op == "equals":
        return same(expected, actual), actual
    if op == "equals_subset":
        return subset(expected, actual), actual
    if op == "equals_unordered":
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False, actual
        remaining = list(actual)
        for item in expected:
            match = next((i for i, a in enumerate(remaining) if same(item, a)), None)
            if match is None:
                return False, actual
            remaining.pop(match)
        return True, actual
    if op == "equals_subset_list":
        ok = isinstance(actual, list) and len(actual) == len(expected)
        return ok and all(subset(e, a) for e, a in zip(expected, actual, strict=True)), actual
    if op == "contains_items_subset":
        ok = isinstance(actual, list) and all(any(subset(e, a) for a in actual) for e in expected)
        return ok, [{k: a.get(k) for k in ("post_id", "post_title", "post_type", "status")} for a in actual]
    if op == "has_key_value":
        values = [m.get("value") for m in actual if isinstance(m, dict) and m.get("key") == expected["key"]]
        return expected["value"] in values, values or [m.get("key") for m in actual]
    if op == "contains":
        return isinstance(actual, str) and expected in actual, actual
    if op == "ends_with":
        return isinstance(actual, str) and actual.endswith(expected), actual
    if op == "equals_after_strip":
        return isinstance(actual, str) and actual.strip() == expected.strip(), actual
    if op == "sorted_equals_after_strip":
        got = sorted(str(a).strip() for a in actual) if isinstance(actual, list) else actual
        return got == sorted(expected), got
    if op == "count":
        return isinstance(actual, (list, dict)) and len(actual) == expected, (
            len(actual) if isinstance(actual, (list, dict)) else actual
        )
    if op == "count_by":
        counts = dict(Counter(f"{p.get('post_type')}/{p.get('status')}" for p in actual))
        return counts == expected, counts
    if op == "count_substring":
        got = actual.count(expected["substring"]) if isinstance(actual, str) else None
        return got == expected["count"], got
    if op in ("php_unserialize_equals", "php_unserialize_has"):
        try:
            value = php_unserialize(actual)
        except (ValueError, IndexError) as exc:
            return False, f"not PHP-serialized ({exc}): {actual!r}"
        if op == "php_unserialize_equals":
            return value == expected, value
        return isinstance(value, dict) and all(value.get(k) == v for k, v in expected.items()), value
    raise ValueError(f"unknown op {op!r}")


# --------------------------------------------------------------------------- the two sets


def _open_fixture(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path


def _parse(path: Path) -> tuple[dict[str, Any] | None, Exception | None]:
    source = _open_fixture(path)
    try:
        with parse_wxr(source) as export:
            parsed = export.to_dict()
            parsed["_errors"] = list(export.errors)
        return parsed, None
    except WxrError as exc:
        return None, exc
    finally:
        if hasattr(source, "close"):
            source.close()


def evaluate_importer(data: Path) -> dict[str, Any]:
    root = data / "wp-importer-wxr"
    spec = json.loads((root / "expectations.json").read_text(encoding="utf-8"))
    files = []
    failures = []
    for entry in spec["files"]:
        parsed, error = _parse(root / entry["file"])
        passed = 0
        for check in entry["checks"]:
            ok, actual = run_check(check, parsed, error)
            passed += ok
            if not ok:
                failures.append({"file": entry["file"], **check, "actual": actual})
        files.append(
            {
                "file": entry["file"],
                "checks": len(entry["checks"]),
                "passed": passed,
                "posts": len(parsed["posts"]) if parsed else None,
                "error": f"{type(error).__name__}: {error}" if error else None,
                "recovered": [str(i) for i in parsed["_errors"]] if parsed else [],
            }
        )
    return {
        "files": files,
        "checks": sum(f["checks"] for f in files),
        "passed": sum(f["passed"] for f in files),
        "failures": failures,
    }


_DASHES = str.maketrans({"–": "-", "—": "-"})


def evaluate_wpextract(data: Path) -> dict[str, Any]:
    root = data / "wpextract-site"
    cases = [json.loads(line) for line in (root / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    parsed = load_wxr(gzip.open(root / "wxr" / "test_site.xml.gz", "rb"))
    posts = {post["post_id"]: post for post in parsed["posts"]}
    author_ids = {login: a["author_id"] for login, a in parsed["authors"].items()}
    category_ids = {c["category_nicename"]: c["term_id"] for c in parsed["categories"]}
    tag_ids = {t["tag_slug"]: t["term_id"] for t in parsed["tags"]}
    result: dict[str, Any] = {
        "cases": len(cases),
        "present": 0,
        "type_and_status": 0,
        "title_equal": 0,
        "title_texturize_only": [],
        "title_other": [],
        "date_gmt_equal": 0,
        "author_equal": 0,
        "terms_equal": 0,
        "mismatches": [],
    }
    for case in cases:
        post = posts.get(str(case["wxr_post_id"]))
        if post is None:
            result["mismatches"].append({"id": case["id"], "what": "missing from the WXR"})
            continue
        result["present"] += 1
        if (post["post_type"], post["status"]) == (case["type"], case["wxr_status"]):
            result["type_and_status"] += 1
        else:
            result["mismatches"].append(
                {"id": case["id"], "what": "type/status", "wxr": [post["post_type"], post["status"]]}
            )
        ours, theirs = html.unescape(post["post_title"]).strip(), html.unescape(case["expected_title"]).strip()
        if ours == theirs:
            result["title_equal"] += 1
        elif ours.translate(_DASHES) == theirs.translate(_DASHES):
            result["title_texturize_only"].append({"id": case["id"], "wxr": ours, "rest": theirs})
        else:
            result["title_other"].append({"id": case["id"], "wxr": ours, "rest": theirs})
        if post["post_date_gmt"].replace(" ", "T") == case["date_gmt"]:
            result["date_gmt_equal"] += 1
        else:
            result["mismatches"].append(
                {"id": case["id"], "what": "date_gmt", "wxr": post["post_date_gmt"], "rest": case["date_gmt"]}
            )
        if str(author_ids.get(post["post_author"])) == str(case["author"]):
            result["author_equal"] += 1
        else:
            result["mismatches"].append({"id": case["id"], "what": "author", "wxr": post["post_author"]})
        terms = post["terms"]
        categories = sorted(int(category_ids[t["slug"]]) for t in terms if t["domain"] == "category")
        tags = sorted(int(tag_ids[t["slug"]]) for t in terms if t["domain"] == "post_tag")
        if (categories, tags) == (sorted(case["categories"] or []), sorted(case["tags"] or [])):
            result["terms_equal"] += 1
        else:
            result["mismatches"].append(
                {
                    "id": case["id"],
                    "what": "terms",
                    "wxr": [categories, tags],
                    "rest": [case["categories"], case["tags"]],
                }
            )
    # the reader: exactly the REST posts and pages are kept, everything else rejected with a reason
    file = InputFile("wxr/test_site.xml.gz", str(root), str(root / "wxr" / "test_site.xml.gz"))
    kept, reasons = set(), Counter()
    for item in wxr_records(file, gzip.open(root / "wxr" / "test_site.xml.gz", "rb"), ReadConfig()):
        if isinstance(item, Record):
            kept.add(int(item.source_id))
        else:
            reasons[item.reason.value] += 1
    expected_ids = {case["id"] for case in cases}
    result["reader"] = {
        "kept": len(kept),
        "kept_equals_rest_ids": kept == expected_ids,
        "missing": sorted(expected_ids - kept),
        "extra": sorted(kept - expected_ids),
        "rejected": dict(sorted(reasons.items())),
    }
    return result


def evaluate(data_dir: Path | str = DEFAULT_DATA) -> dict[str, Any]:
    data = Path(data_dir)
    return {"importer": evaluate_importer(data), "wpextract": evaluate_wpextract(data)}


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data directory")
    args = parser.parse_args(argv)
    result = evaluate(args.data)
    importer = result["importer"]
    print("wp-importer-wxr: expectations.json checks")
    print(f"{'file':45} {'checks':>6} {'passed':>6}  note")
    for entry in importer["files"]:
        note = entry["error"] or (f"recovered: {entry['recovered'][0]}" if entry["recovered"] else "")
        print(f"{entry['file']:45} {entry['checks']:>6} {entry['passed']:>6}  {_short(note, 90) if note else ''}")
    share = importer["passed"] / importer["checks"] if importer["checks"] else 0.0
    print(f"{'total':45} {importer['checks']:>6} {importer['passed']:>6}  ({share:.1%})")
    for failure in importer["failures"]:
        print(f"FAIL {failure['file']} {failure['path']} {failure['op']}")
        print(f"     expected {_short(failure['value'])}")
        print(f"     actual   {_short(failure['actual'])}")
    wp = result["wpextract"]
    print("\nwpextract-site: WXR export vs the REST API (cases.jsonl)")
    for key in ("present", "type_and_status", "title_equal", "date_gmt_equal", "author_equal", "terms_equal"):
        print(f"  {key:18} {wp[key]:>3} / {wp['cases']}")
    print(f"  titles differing only by '-' vs '–' (REST is texturized): {len(wp['title_texturize_only'])}")
    for item in wp["title_texturize_only"]:
        print(f"    {item['id']}: WXR {item['wxr']!r} vs REST {item['rest']!r}")
    print(f"  titles differing otherwise: {len(wp['title_other'])}")
    for item in wp["title_other"]:
        print(f"    {item['id']}: WXR {item['wxr']!r} vs REST {item['rest']!r}")
    for mismatch in wp["mismatches"]:
        print(f"  MISMATCH {_short(mismatch)}")
    reader = wp["reader"]
    print(
        f"  reader: kept {reader['kept']} (= the REST ids: {reader['kept_equals_rest_ids']}), "
        f"rejected {reader['rejected']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
