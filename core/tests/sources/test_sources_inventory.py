import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from reformatters.core.sources.inventory import (
    InventoryParseError,
    MissingMessagesError,
    message_ends,
    select_entries,
)
from reformatters.core.sources.json_lines_index import (
    JsonLinesIndexEntry,
    parse_json_lines_index,
    select_json_lines_entries,
)


@dataclass(frozen=True)
class ByName:
    prefix: str

    def matches(self, entry: JsonLinesIndexEntry) -> bool:
        return entry.keys["name"].startswith(self.prefix)

    def describe(self) -> str:
        return f"{self.prefix}*"


def test_message_ends_are_the_next_larger_offset() -> None:
    assert message_ends(["1", "2.1", "2.2", "3"], [0, 100, 100, 250], None) == [
        100,
        250,
        250,
        None,
    ]
    assert message_ends(["1", "2"], [0, 100], 180) == [100, 180]
    with pytest.raises(InventoryParseError, match="not increasing at message 1"):
        message_ends(["1", "2"], [100, 50], None)


def test_select_entries_one_per_selector_in_order() -> None:
    entries = [
        JsonLinesIndexEntry(offset, 10, {"name": name})
        for offset, name in ((0, "a1"), (10, "b1"), (20, "b2"))
    ]
    assert select_entries(entries, [ByName("b2"), ByName("a")], url="u") == [
        entries[2],
        entries[0],
    ]
    with pytest.raises(MissingMessagesError, match="u: inventory lacks 2 requested") as missing:
        select_entries(entries, [ByName("c"), ByName("a"), ByName("d")], url="u")
    assert missing.value.missing == ["c*", "d*"]
    with pytest.raises(LookupError, match=r"b\* is ambiguous, it matches message at byte 10"):
        select_entries(entries, [ByName("b")], url="u")


def test_real_ecmwf_indexes(real_fixtures_dir: Path) -> None:
    for path in sorted((real_fixtures_dir / "ecmwf").glob("*.index")):
        entries = parse_json_lines_index(path.read_text())
        assert len(entries) == len(path.read_text().splitlines())
        for previous, entry in itertools.pairwise(entries):
            assert entry.offset == previous.end, path
    aifs = parse_json_lines_index(
        (real_fixtures_dir / "ecmwf" / "aifs_single_20250301_00z_6h.index").read_text()
    )
    first = aifs[0]
    keys = ("param", "levtype", "levelist", "step")
    assert tuple(first.keys[k] for k in keys) == ("vsw", "sol", "1", "6")
    assert (first.offset, first.length, first.end) == (0, 712117, 712117)
    [mcc] = select_json_lines_entries(aifs, [{"param": "mcc", "levtype": "sfc"}], url="x")
    assert mcc.offset == 712117
    with pytest.raises(MissingMessagesError, match="param=nope"):
        select_json_lines_entries(aifs, [{"param": "nope"}], url="x")


def test_ecmwf_blob_index_offsets_match_file(real_fixtures_dir: Path) -> None:
    blob = real_fixtures_dir / "ecmwf" / "s2s_control_2026-08-10T00Z.grib2"
    data = blob.read_bytes()
    for entry in parse_json_lines_index(Path(f"{blob}.index").read_text()):
        assert entry.keys["variable"]
        chunk = data[entry.offset : entry.end]
        assert chunk[:4] == b"GRIB" and chunk[-4:] == b"7777"


def test_json_lines_index_rejects_lines_without_a_byte_range() -> None:
    with pytest.raises(InventoryParseError, match="not a JSON object"):
        parse_json_lines_index("[1, 2]\n")
    with pytest.raises(InventoryParseError, match="lacks integer _offset/_length"):
        parse_json_lines_index('{"param": "2t", "_offset": 0}\n')
    [entry] = parse_json_lines_index('{"param": "2t", "offset": 5, "length": 7, "step": 6}\n')
    assert entry == JsonLinesIndexEntry(5, 7, {"param": "2t", "step": "6"})
    assert entry.label == "message at byte 5 (param=2t,step=6)"
