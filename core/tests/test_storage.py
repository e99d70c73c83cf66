"""StoreLocation.upload_files: copies, or moves into a local store when the caller allows."""

import errno
from pathlib import Path

import pytest

from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server

FILES = {
    "temperature_2m/zarr.json": b"{}",
    "temperature_2m/c/0/0/0": bytes(range(256)) * 40,
    "temperature_2m/c/1/0/0": b"second shard",
}


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    root = tmp_path / "tmp.zarr"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_copy_keeps_the_sources(staged: Path, tmp_path: Path) -> None:
    location = StoreLocation(str(tmp_path / "out.zarr"))
    written = location.upload_files(staged, sorted(FILES))
    assert written == sum(len(d) for d in FILES.values())
    assert _contents(tmp_path / "out.zarr") == FILES
    assert _contents(staged) == FILES


def test_move_renames_into_a_local_store_replacing_what_is_there(
    staged: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.zarr"
    (out / "temperature_2m/c/0/0").mkdir(parents=True)
    (out / "temperature_2m/c/0/0/0").write_bytes(b"an older shard")
    written = StoreLocation(str(out)).upload_files(staged, sorted(FILES), move=True)
    assert written == sum(len(d) for d in FILES.values())
    assert _contents(out) == FILES
    assert _contents(staged) == {}


def test_move_across_filesystems_copies_the_rest(
    staged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[Path] = []
    original = Path.replace

    def replace(self: Path, target: Path) -> Path:
        renames.append(self)
        if len(renames) == 2:  # as rename(2) answers for another mount
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return original(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    out = tmp_path / "out.zarr"
    names = sorted(FILES)
    written = StoreLocation(str(out)).upload_files(staged, names, move=True)
    assert written == sum(len(d) for d in FILES.values())
    assert _contents(out) == FILES
    assert len(renames) == 2
    assert _contents(staged) == {rel: FILES[rel] for rel in names[1:]}


def test_move_to_s3_uploads(
    staged: Path, moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in moto_s3_server.env().items():
        monkeypatch.setenv(key, value)
    location = StoreLocation(f"s3://{moto_s3_server.bucket}/moves/out.zarr")
    written = location.upload_files(staged, sorted(FILES), move=True)
    assert written == sum(len(d) for d in FILES.values())
    assert sorted(location.list_files("temperature_2m")) == sorted(FILES)
    assert _contents(staged) == FILES
