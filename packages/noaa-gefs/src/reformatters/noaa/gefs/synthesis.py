"""Synthesize a GEFS-layout source mirror for offline runs (tests, demos).

Every member's files of each product are written with noaa-common's synthesis: message order and
identities from the model inventories in ``synthesis_data/``, ensemble product templates (4.1 /
4.11) naming the member, and smooth synthetic values for the messages the dataset reads. Members
differ: member m's fields are the synthetic pattern turned eastward by ``MEMBER_SHIFT_DEG`` x m
degrees (every physical property of the pattern, e.g. growing accumulations, is kept).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grid_templates import GridTemplate, template_of
from reformatters.core.sources.synthesis import write_grib_file, write_in_processes
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.synthesis import NoaaInventoryModel, idx_beside, message_spec
from reformatters.noaa.common.synthetic_values import synthetic_field
from reformatters.noaa.gefs.common import (
    LAST_QUARTER_DEGREE_LEAD,
    MEMBERS,
    SOURCES,
    WINDOW_RESET_HOURS,
    Product,
    member_role,
)

DATA_DIR = Path(__file__).with_name("synthesis_data")
MEMBER_SHIFT_DEG = 7.5
# Leads of a default synthesized run: both sides of the switch to 0.5 degree at 240 h.
DEFAULT_SYNTHESIS_LEADS: tuple[int, ...] = (237, 240, 246)


@cache
def product_grid(product: Product) -> GridTemplate:
    return template_of(f"gefs-{product.value}", product.grid)


def _model(name: str, idx: str, lead: int) -> NoaaInventoryModel:
    path = DATA_DIR / idx
    return NoaaInventoryModel(
        name=name,
        lead_zero_idx=path,  # no lead-0 model: messages(0) fails, naming the model
        later_idx=path,
        later_lead=lead,
        window_reset_hours=WINDOW_RESET_HOURS,
        grid=lambda: product_grid(Product.S),
    )


MODELS = {
    Product.S: _model("gefs-pgrb2s-0p25", "gep01.t00z.pgrb2s.0p25.f015.idx", 15),
    Product.A: _model("gefs-pgrb2a-0p50", "gec00.t00z.pgrb2a.0p50.f432.idx", 432),
    Product.B: _model("gefs-pgrb2b-0p50", "gefs.pgrb2b.0p50.model.idx", 432),
}


def ensemble_label(member: int) -> str:
    """The ``.idx`` field NOAA writes after the forecast: ``ENS=low-res ctl``, ``ENS=+1``..."""
    return "ENS=low-res ctl" if member == 0 else f"ENS=+{member}"


def member_values(
    element: str,
    level: str,
    init_time: pd.Timestamp,
    member: int,
    start: timedelta | None,
    end: timedelta,
    step_type: str,
    grid: GridTemplate,
) -> NDArray[np.float32]:
    """The synthetic field of one member on a product's grid (source units, source layout)."""
    return synthetic_field(
        element,
        level,
        init_time.to_pydatetime(),
        start,
        end,
        step_type,  # type: ignore[arg-type]
        grid.lats,
        (grid.lons + MEMBER_SHIFT_DEG * member) % 360.0,
    )


def products_at(lead: int) -> tuple[Product, ...]:
    return (
        (Product.S, Product.A, Product.B)
        if lead <= LAST_QUARTER_DEGREE_LEAD
        else (Product.A, Product.B)
    )


def write_member_file(
    folder: Path,
    init_time: pd.Timestamp,
    member: int,
    lead: int,
    product: Product,
    data_vars: Sequence[NoaaDataVar],
) -> Path:
    """One member's file of ``product`` at ``lead`` (and its ``.idx``), with values in the
    messages ``data_vars`` read from it."""
    grid = product_grid(product)
    wanted = set()
    for var in data_vars:
        forecast = var.internal_attrs.forecast_description(lead)
        if forecast is not None and SOURCES[var.name].product(lead) is product:
            wanted.add((var.internal_attrs.grib_element, var.internal_attrs.grib_level, forecast))
    specs = []
    for message in MODELS[product].messages(lead):
        spec = message_spec(message, init_time.to_pydatetime(), grid, fill=False)
        values = None
        if (message.element, message.level, message.forecast) in wanted:
            start = None if message.start_hour is None else timedelta(hours=message.start_hour)
            values = member_values(
                message.element,
                message.level,
                init_time,
                member,
                start,
                timedelta(hours=lead),
                message.step_type,
                grid,
            )
        specs.append(
            replace(spec, values=values, ensemble=member_role(member), ensemble_size=len(MEMBERS))
        )
    path = folder / product.url(init_time, member, lead).removeprefix("s3://")
    init = init_time.to_pydatetime()
    inventory = idx_beside(path, init, extra=(ensemble_label(member),))
    write_grib_file(path, specs, init_time=init, grid=grid, inventory=inventory)
    return path


def synthesize_gefs_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    members: Sequence[int],
    leads: Sequence[int],
    data_vars: Sequence[NoaaDataVar],
    *,
    skip: Collection[tuple[pd.Timestamp, int, int]] = (),
    workers: int | None = None,
) -> list[Path]:
    """Every product's file (+ ``.idx``) of every init x member x lead except the (init,
    member, lead) in ``skip``, at ``<folder>/noaa-gefs-pds/gefs.YYYYMMDD/HH/atmos/...``."""
    jobs = [
        (pd.Timestamp(init), int(member), lead, product)
        for init in init_times
        for member in members
        for lead in leads
        if (pd.Timestamp(init), int(member), lead) not in skip
        for product in products_at(lead)
    ]
    return write_in_processes(
        write_member_file, [(folder, *job, data_vars) for job in jobs], workers
    )
