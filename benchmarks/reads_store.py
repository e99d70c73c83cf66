"""The stores `reads` reads: realistic 2 m temperature written with zarr in a layout, only where
the reads go, and a store that counts the bytes a read takes from disk.

The values (degree Celsius) are a real 2 m temperature field (ECMWF AIFS 0.25 degree, global
grids; DWD ICON-EU 0.0625 degree resampled bilinearly to the other grids) plus, per step, a
diurnal cycle (4 K), two synoptic waves moving with time (3 and 2 K, ~3000 km), for ensembles a
member perturbation growing from 0.3 to 3.3 K over 10 days, and 0.05 K of noise (a shifted
window of one fixed random field per step), then the dataset's mantissa rounding: what a
backfill writes, as far as the codec can tell.

Only the chunks a read touches are written (chunk-aligned regions, shard by shard); the rest of
the array is absent, which the read path sees as the sharding index's empty entries or missing
shard objects, as in a store being filled.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from itertools import pairwise, product
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.common import REPO_ROOT
from benchmarks.reads_layouts import VARIABLE, Case, Layout, Selection, chunk_count

# Real files: $REFORMATTERS_REAL_FIXTURES or ../shared/fixtures/real beside the repository.
GLOBAL_T2M = "ecmwf/ecmwf-aifs-0p25-20240802060000-18h-oper-fc-tmp_2m.grib2"
REGIONAL_T2M = "dwd/icon-eu_europe_regular-lat-lon_single-level_2020062300_000_T_2M.grib2"
NOISE_SHIFT = 64
NOISE_KELVIN = 0.05

type Float32 = NDArray[np.float32]
type Region = tuple[tuple[int, int], ...]


def _real_file(name: str) -> Path:
    configured = os.environ.get("REFORMATTERS_REAL_FIXTURES")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures" / "real"
    if not (root / name).is_file():
        raise SystemExit(f"reads: no {name} under {root}; set REFORMATTERS_REAL_FIXTURES")
    return root / name


def _decoded(name: str, cache: Path) -> Float32:
    if not cache.exists():
        import pygrib

        path = _real_file(name)

        with pygrib.open(str(path)) as grib:
            values = np.asarray(grib.message(1).values, dtype=np.float32) - np.float32(273.15)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, values)
    return np.asarray(np.load(cache), dtype=np.float32)


def _resample(field: Float32, shape: tuple[int, int]) -> Float32:
    """Bilinear resampling of a 2-D field onto `shape` (corners to corners)."""
    out = field
    for axis, size in enumerate(shape):
        old = out.shape[axis]
        position = np.linspace(0.0, old - 1.0, size)
        low = np.minimum(np.floor(position).astype(int), old - 2)
        weight = (position - low).astype(np.float32)
        lo, hi = np.take(out, low, axis=axis), np.take(out, low + 1, axis=axis)
        weight = weight[:, None] if axis == 0 else weight[None, :]
        out = (lo * (1 - weight) + hi * weight).astype(np.float32)
    return out


def base_field(grid: tuple[int, int], cache_dir: Path) -> tuple[Float32, str]:
    """A real 2 m temperature field on `grid` (the dataset's full grid) and where it is from."""
    world = _decoded(GLOBAL_T2M, cache_dir / "aifs_t2m.npy")
    if world.shape == grid:
        return world, "ECMWF AIFS 0.25 degree 2 m temperature (real)"
    europe = _decoded(REGIONAL_T2M, cache_dir / "icon_eu_t2m.npy")
    return _resample(europe, grid), f"DWD ICON-EU 2 m temperature (real) resampled to {grid}"


@dataclass
class Synthesis:
    """Per-step fields of one case on its (possibly cropped) grid; see the module docstring."""

    case: Case
    base: Float32
    waves_sin: Float32
    waves_cos: Float32
    member_sin: Float32
    member_cos: Float32
    diurnal_phase: Float32  # along x
    noise: Float32

    @classmethod
    def of(cls, case: Case, cache_dir: Path) -> Synthesis:
        ny, nx = case.shape[-2:]
        base = base_field(case.full_grid, cache_dir)[0][:ny, :nx]
        # Cell size: global 0.25 degree (28 km), ICON-EU 0.0625 degree, HRRR 3 km.
        km = {1440: 27.8, 1377: 6.9, 1799: 3.0}.get(case.full_grid[1], 10.0)
        y, x = np.mgrid[0:ny, 0:nx].astype(np.float32) * np.float32(km)
        phase1 = 2 * np.pi * (x / 3000 + y / 4500)
        phase2 = 2 * np.pi * (x / 2500 - y / 3500) + 1.0
        member = 2 * np.pi * (x / 1500 + y / 1800)
        rng = np.random.default_rng(0)
        noise = rng.normal(0, NOISE_KELVIN, (ny + NOISE_SHIFT, nx + NOISE_SHIFT))
        degrees_per_cell = km / 111.0
        return cls(
            case,
            base,
            (3 * np.sin(phase1) + 2 * np.sin(phase2)).astype(np.float32),
            (3 * np.cos(phase1) + 2 * np.cos(phase2)).astype(np.float32),
            np.sin(member).astype(np.float32),
            np.cos(member).astype(np.float32),
            (2 * np.pi * np.arange(nx) * degrees_per_cell / 360).astype(np.float32),
            noise.astype(np.float32),
        )

    def field(self, hours: float, member: int, ys: slice, xs: slice, out: Float32) -> None:
        """One step's field over rows `ys` and columns `xs`, into `out`."""
        from reformatters.core.rounding import round_float32_mantissa

        np.copyto(out, self.base[ys, xs])
        diurnal = 4 * np.cos(2 * np.pi * hours / 24 + self.diurnal_phase[xs])
        out += diurnal.astype(np.float32)[None, :]
        omega = 2 * np.pi * hours / 96
        out += np.float32(math.cos(omega)) * self.waves_sin[ys, xs]
        out -= np.float32(math.sin(omega)) * self.waves_cos[ys, xs]
        if self.case.kind == "ensemble":
            spread = 0.3 + 3.0 * min(hours / 240, 1.0)
            angle = 2.4 * member
            out += np.float32(spread * math.cos(angle)) * self.member_sin[ys, xs]
            out += np.float32(spread * math.sin(angle)) * self.member_cos[ys, xs]
        step = int(hours * 4) + 7919 * member
        sy, sx = (step * 37) % NOISE_SHIFT, (step * 53 + member) % NOISE_SHIFT
        out += self.noise[sy + ys.start : sy + ys.stop, sx + xs.start : sx + xs.stop]
        round_float32_mantissa(out, self.case.keep_mantissa_bits)

    def region(self, region: Region) -> Float32:
        """The values of a region (one (start, stop) per dim of the case)."""
        shape = tuple(stop - start for start, stop in region)
        values = np.empty(shape, dtype=np.float32)
        ys, xs = slice(*region[-2]), slice(*region[-1])
        dims = self.case.dims
        leading = [range(start, stop) for start, stop in region[:-2]]
        for index in product(*leading):
            named = dict(zip(dims, index, strict=False))
            step = named.get("lead_time", named.get("time", 0))
            member = named.get("ensemble_member", 0)
            local = tuple(i - r[0] for i, r in zip(index, region, strict=False))
            self.field(self.case.step_hours[step], member, ys, xs, values[local])
        return values


def read_region(selection: Selection, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Region:
    """The chunk-aligned region a selection touches."""
    region = []
    for index, size, chunk in zip(selection, shape, chunks, strict=True):
        if index is None:
            region.append((0, size))
        else:
            start = index // chunk * chunk
            region.append((start, min(start + chunk, size)))
    return tuple(region)


def shard_pieces(region: Region, shards: tuple[int, ...]) -> list[Region]:
    """`region` split along shard boundaries (one write per shard object)."""
    per_dim = []
    for (start, stop), shard in zip(region, shards, strict=True):
        edges = [start, *range((start // shard + 1) * shard, stop, shard), stop]
        per_dim.append(list(pairwise(edges)))
    return [tuple(piece) for piece in product(*per_dim)]


def _inside(piece: Region, other: Region) -> bool:
    return all(o0 <= p0 and p1 <= o1 for (p0, p1), (o0, o1) in zip(piece, other, strict=True))


def build_store(case: Case, layout: Layout, path: Path, synthesis: Synthesis) -> bool:
    """Create the array and write the chunks every read of `case` touches, unless the manifest
    beside the store says it holds them already (then False: reused)."""
    import shutil

    import zarr

    manifest = json.loads(json.dumps({"case": case.describe(), "layout": layout.describe()}))
    manifest_path = path.with_suffix(".json")
    if manifest_path.exists() and json.loads(manifest_path.read_text()) == manifest:
        return False
    if path.exists():
        shutil.rmtree(path)
    manifest_path.unlink(missing_ok=True)
    array = zarr.create_array(
        zarr.storage.LocalStore(path),
        name=VARIABLE,
        shape=case.shape,
        dtype="float32",
        chunks=layout.chunks,
        shards=layout.shards,
        compressors=list(case.compressors),
        fill_value=float("nan"),
        dimension_names=case.dims,
    )
    written: list[Region] = []
    for selection in case.reads().values():
        region = read_region(selection, case.shape, layout.chunks)
        for piece in shard_pieces(region, layout.shards or layout.chunks):
            if any(_inside(piece, done) for done in written):
                continue
            array[tuple(slice(*r) for r in piece)] = synthesis.region(piece)
            written.append(piece)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return True


def store_stats(case: Case, layout: Layout, path: Path) -> dict[str, Any]:
    """Bytes on disk, chunks written, the compression ratio of the written chunks and the
    estimated bytes of the whole array (written chunks' mean size x every chunk + indexes) and
    of one of its objects (shards, or chunks when unsharded)."""
    files = [p for p in (path / VARIABLE / "c").rglob("*") if p.is_file()]
    on_disk = sum(p.stat().st_size for p in files)
    chunk_bytes = 0
    chunks_written = 0
    index_bytes = 0
    if layout.shards is not None:
        per_shard = chunk_count(layout.shards, layout.chunks)
        index_size = 16 * per_shard + 4
        for p in files:
            index = np.frombuffer(p.read_bytes()[-index_size:-4], dtype="<u8").reshape(-1, 2)
            present = index[:, 0] != np.iinfo(np.uint64).max
            chunks_written += int(present.sum())
            chunk_bytes += int(index[present, 1].sum())
            index_bytes += index_size
    else:
        chunks_written, chunk_bytes = len(files), on_disk
    raw_chunk = 4 * math.prod(layout.chunks)
    mean = chunk_bytes / max(chunks_written, 1)
    full_chunks = chunk_count(case.shape, layout.chunks)
    full_objects = chunk_count(case.shape, layout.shards or layout.chunks)
    full_indexes = 0
    if layout.shards is not None:
        full_indexes = full_objects * (16 * chunk_count(layout.shards, layout.chunks) + 4)
    full_bytes = mean * full_chunks + full_indexes
    return {
        "bytes_on_disk": on_disk,
        "objects": len(files),
        "chunks_written": chunks_written,
        "chunk_bytes_mean": mean,
        "index_bytes": index_bytes,
        "compression_ratio": raw_chunk / mean if mean else 0.0,
        "full_array_chunks": full_chunks,
        "full_array_bytes_estimate": full_bytes,
        "full_array_objects": full_objects,
        # What an object of the whole array holds on average (the built store holds only the
        # chunks the reads touch, so its objects are smaller than a real store's).
        "object_bytes_estimate": full_bytes / full_objects,
    }


def counting_store(path: Path) -> Any:
    """A read-only LocalStore that counts the bytes and requests it serves and the objects (files)
    they come from (zarr.json documents included in the bytes, not in the objects)."""
    from zarr.abc.store import ByteRequest
    from zarr.core.buffer import Buffer, BufferPrototype
    from zarr.storage import LocalStore

    class CountingStore(LocalStore):
        def __init__(self, root: Path) -> None:
            super().__init__(root, read_only=True)
            self.bytes_read = 0
            self.requests = 0
            self.keys: set[str] = set()

        def _count(self, key: str, buffer: Buffer | None) -> None:
            if buffer is not None:
                self.bytes_read += len(buffer)
                self.requests += 1
                if "/c/" in key:
                    self.keys.add(key)

        async def get(
            self,
            key: str,
            prototype: BufferPrototype | None = None,
            byte_range: ByteRequest | None = None,
        ) -> Buffer | None:
            buffer = await super().get(key, prototype, byte_range)
            self._count(key, buffer)
            return buffer

    return CountingStore(path)
