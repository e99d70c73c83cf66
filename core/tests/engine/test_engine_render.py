"""The staging store's render: variables may be queued before it is done, so a worker waits
for the whole store (or learns that its render failed) before writing shards."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest
import zarr

from reformatters.core.engine.render import wait_until_rendered, write_metadata_whole
from reformatters.example_plugin.dataset import make_dataset


def test_a_worker_waits_for_the_whole_store(tmp_path: Path) -> None:
    template = make_dataset().template_config.get_template(datetime(2000, 1, 3))
    store = tmp_path / "tmp.zarr"
    seen: list[bool] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        wait_until_rendered(store)
        seen.append((store / "zarr.json").exists())

    waiting = threading.Thread(target=worker)
    waiting.start()
    started.wait()
    write_metadata_whole(template, store)
    waiting.join(timeout=60)
    assert seen == [True]
    assert not (tmp_path / "tmp.zarr.partial").exists()
    group = zarr.open_group(zarr.storage.LocalStore(store), mode="r")
    assert set(template.data_vars) <= set(group.array_keys())


def test_a_failed_render_ends_the_wait(tmp_path: Path) -> None:
    store = tmp_path / "tmp.zarr"
    with pytest.raises(AttributeError):
        write_metadata_whole(None, store)  # type: ignore[arg-type]
    assert not store.exists()
    with pytest.raises(RuntimeError, match="not rendered"):
        wait_until_rendered(store)


def test_a_removed_scratch_folder_ends_the_wait(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.rmtree(scratch)
    with pytest.raises(RuntimeError, match="not rendered"):
        wait_until_rendered(scratch / "tmp.zarr")
