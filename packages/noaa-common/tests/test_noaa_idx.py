from datetime import datetime
from pathlib import Path

import pytest

from reformatters.core.sources.inventory import (
    InventoryParseError,
    MissingMessagesError,
    select_entries,
)
from reformatters.noaa.common.idx import IdxEntry, MessageSelector, format_noaa_idx, parse_noaa_idx

SAMPLE = """\
1:0:d=2024010100:PRMSL:mean sea level:anl:
2:100:d=2024010100:TMP:2 m above ground:7 hour fcst:
3.1:250:d=2024010100:UGRD:10 m above ground:7 hour fcst:
3.2:250:d=2024010100:VGRD:10 m above ground:7 hour fcst:
4:400:d=2024010100:APCP:surface:6-7 hour acc fcst:ens mean
5:500:d=2024010100:APCP:surface:0-7 hour acc fcst:prob >0.254:prob fcst 1/21
"""


def test_parse_fields_and_ends() -> None:
    entries = parse_noaa_idx(SAMPLE)
    assert [e.offset for e in entries] == [0, 100, 250, 250, 400, 500]
    # Sub-messages share an offset and both span the whole enclosing message.
    assert [e.end for e in entries] == [100, 250, 400, 400, 500, None]
    first = entries[0]
    assert (first.element, first.level, first.forecast) == ("PRMSL", "mean sea level", "anl")
    assert first.reference_datetime == datetime(2024, 1, 1, 0)
    assert entries[3].message == "3.2" and entries[3].message_number == 3
    assert entries[4].extra_text == "ens mean"
    assert entries[5].extra == ("prob >0.254", "prob fcst 1/21")


def test_file_size_resolves_last_end() -> None:
    entries = parse_noaa_idx(SAMPLE, file_size=640)
    assert entries[-1].end == 640
    assert entries[-1].length == 140


def test_round_trip_sample() -> None:
    assert format_noaa_idx(parse_noaa_idx(SAMPLE)) == SAMPLE


def test_rejects_garbage_and_decreasing_offsets() -> None:
    with pytest.raises(InventoryParseError, match="fields"):
        parse_noaa_idx("1:0:d=2024010100:TMP\n")
    with pytest.raises(InventoryParseError, match="non-numeric"):
        parse_noaa_idx("x:0:d=2024010100:TMP:surface:anl:\n")
    with pytest.raises(InventoryParseError, match="not increasing"):
        parse_noaa_idx("1:100:d=2024010100:A:surface:anl:\n2:50:d=2024010100:B:surface:anl:\n")


def _real_idx_files(root: Path) -> list[Path]:
    files = sorted(root.rglob("*.idx"))
    assert files, f"no .idx files under {root}"
    return files


def test_every_real_idx_parses_and_round_trips(real_fixtures_dir: Path) -> None:
    for path in _real_idx_files(real_fixtures_dir):
        text = path.read_text()
        entries = parse_noaa_idx(text)
        assert len(entries) == len(text.splitlines()), path
        assert all(e.end is None or e.end > e.offset for e in entries), path
        assert entries[-1].end is None
        assert format_noaa_idx(entries) == text, path


def test_fields_keep_only_those_entries_with_their_full_byte_ranges(
    real_fixtures_dir: Path,
) -> None:
    for path in _real_idx_files(real_fixtures_dir):
        text = path.read_text()
        entries = parse_noaa_idx(text, file_size=10**12)
        wanted = {(e.element, e.level) for e in entries[1::3]}
        kept = parse_noaa_idx(text, file_size=10**12, fields=wanted)
        assert kept == [e for e in entries if (e.element, e.level) in wanted], path
        assert parse_noaa_idx(text, fields=set()) == []
    with pytest.raises(InventoryParseError):
        parse_noaa_idx(f"{SAMPLE}x:1:d=2024010100:TMP\n", fields={("TMP", "surface")})


def test_real_gdaswave_idx_offsets_match_file(real_fixtures_dir: Path) -> None:
    grib = real_fixtures_dir / "misc" / "gdaswave.t00z.wcoast.0p16.f000.grib2"
    data = grib.read_bytes()
    entries = parse_noaa_idx(Path(f"{grib}.idx").read_text(), file_size=len(data))
    for entry in entries:
        assert entry.end is not None
        chunk = data[entry.offset : entry.end]
        assert chunk[:4] == b"GRIB" and chunk[-4:] == b"7777"
        assert int.from_bytes(chunk[8:16], "big") == len(chunk)


def test_real_gfs_idx_selection(real_fixtures_dir: Path) -> None:
    url = "s3://noaa-gfs-bdp-pds/gfs.20250801/00/atmos/gfs.t00z.pgrb2.0p25.f007"
    entries = parse_noaa_idx(
        (real_fixtures_dir / "gfs" / "gfs.t00z.pgrb2.0p25.f007.idx").read_text()
    )
    wanted = [
        MessageSelector("TMP", "2 m above ground", "7 hour fcst"),
        MessageSelector("APCP", "surface", "6-7 hour acc fcst"),
        MessageSelector("CRAIN", "surface", lambda f: f.endswith("ave fcst")),
        MessageSelector("PWAT", "entire atmosphere (considered as a single layer)"),
        MessageSelector("HGT", "cloud ceiling", "7 hour fcst"),
    ]
    selected = select_entries(entries, wanted, url=url)
    assert [e.element for e in selected] == ["TMP", "APCP", "CRAIN", "PWAT", "HGT"]
    assert selected[1].forecast == "6-7 hour acc fcst"
    assert selected[2].forecast == "6-7 hour ave fcst"

    with pytest.raises(MissingMessagesError) as missing:
        select_entries(
            entries,
            [*wanted, MessageSelector("TMP", "3 m above ground", "7 hour fcst")],
            url=url,
        )
    assert url in str(missing.value)
    assert "TMP:3 m above ground:7 hour fcst" in str(missing.value)

    with pytest.raises(LookupError, match="ambiguous"):
        select_entries(entries, [MessageSelector("APCP", "surface")], url=url)


def test_gefs_extra_field_selection(real_fixtures_dir: Path) -> None:
    entries = parse_noaa_idx(
        (real_fixtures_dir / "gefs" / "geavg.t00z.pgrb2s.0p25.f000.idx").read_text()
    )
    [gust] = select_entries(
        entries, [MessageSelector("GUST", "surface", "anl", "ens mean")], url="u"
    )
    assert gust.offset == 526564 and gust.end == 1040413


def test_entry_label_names_the_message() -> None:
    entry = IdxEntry("7", 10, "2024010100", "TMP", "2 m above ground", "anl")
    assert entry.label == "message 7 (TMP:2 m above ground:anl)"
