"""pytest-reportlog: a setup, call and teardown entry per case, at the case's location, with the
case's outcome and own output, as for the parametrized test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from differential import Differential
from report_cases import NODEIDS, both_reports, own_output_only


def _entries(log: Path) -> dict[str, list[dict[str, Any]]]:
    """node id -> its test reports, in the order written."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for line in log.read_text().splitlines():
        data = json.loads(line)
        if data.get("when") in ("setup", "call", "teardown"):
            entries.setdefault(data["nodeid"], []).append(data)
    return entries


def _told(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["when"],
        entry["outcome"],
        tuple(entry["location"]),
        "wasxfail" in entry,
        bool(entry["longrepr"]),
    )


@pytest.mark.parametrize("options", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_entries_as_for_the_parametrized_test(
    differential: Differential, options: list[str]
) -> None:
    concurrent, parametrized = both_reports(
        differential, _entries, "log.jsonl", "--report-log=log.jsonl", *options
    )
    for nodeid, name in NODEIDS.items():
        case, test = concurrent[nodeid], parametrized[nodeid]
        assert [_told(e) for e in case] == [_told(e) for e in test], (case, test)
        call = next(e for e in case if e["when"] == "call")
        assert own_output_only(name, repr(call["sections"])), call["sections"]
