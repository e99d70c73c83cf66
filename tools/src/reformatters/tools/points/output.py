"""Writing an extracted table: .csv, .parquet or .duckdb.

DuckDB writes are upserts keyed on the point id, the time keys and the ensemble member (if any),
so re-running over the same range (or members) updates rows instead of duplicating them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reformatters.core.errors import InvalidArgumentError
from reformatters.tools.points.extract import POINT_ID

KEY_CANDIDATES = ("init_time", "time", "ensemble_member")
OUTPUT_FORMATS = (".csv", ".parquet", ".duckdb", ".db")


def key_columns(frame: pd.DataFrame) -> list[str]:
    """Columns identifying a row: the point id, the time keys (valid_time for lead_time) and the
    ensemble member of ensembles."""
    keys = [POINT_ID, *(c for c in KEY_CANDIDATES if c in frame.columns)]
    if "lead_time" in frame.columns:
        # DuckDB cannot index INTERVAL columns; init_time + valid_time identify the lead time.
        keys.append("valid_time" if "valid_time" in frame.columns else "lead_time")
    return keys


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_output_path(output: Path) -> None:
    """Fail early on an output file we cannot write (unknown extension, missing folder)."""
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise InvalidArgumentError(
            f"--output {output}: unknown extension {output.suffix or '(none)'!r}; use one of "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    if not output.parent.is_dir():
        raise InvalidArgumentError(f"--output {output}: folder {output.parent} does not exist")


def write_points(frame: pd.DataFrame, output: Path, table: str = "points") -> int:
    """Write an extracted table to .csv, .parquet or .duckdb (upsert into `table`); rows written."""
    check_output_path(output)
    suffix = output.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(output, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    elif suffix == ".parquet":
        _write_parquet(frame, output)
    else:
        _upsert_duckdb(frame, output, table)
    return len(frame)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # DuckDB's writer (a dependency already): pyarrow, which pandas would need, is not one. With
    # pyarrow installed, pandas imports it at start-up, and it starts a thread in every process.
    import duckdb

    with duckdb.connect() as con:
        con.register("points_frame", frame)
        con.execute(f"COPY points_frame TO {_literal(str(path))} (FORMAT parquet)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _upsert_duckdb(frame: pd.DataFrame, path: Path, table: str) -> None:
    import duckdb

    keys = key_columns(frame)
    columns = [str(c) for c in frame.columns]
    with duckdb.connect(str(path)) as con:
        con.register("incoming_points", frame)
        types = {
            str(row[0]): str(row[1])
            for row in con.execute("DESCRIBE SELECT * FROM incoming_points").fetchall()
        }
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        if exists is None or exists[0] == 0:
            definitions = ", ".join(f"{_quote(c)} {types[c]}" for c in columns)
            con.execute(
                f"CREATE TABLE {_quote(table)} ({definitions}, "
                f"PRIMARY KEY ({', '.join(map(_quote, keys))}))"
            )
        else:
            primary = con.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table],
            ).fetchone()
            if primary is None or list(primary[0]) != keys:
                raise InvalidArgumentError(
                    f"{path}: table {table!r} exists with a different key "
                    f"({', '.join(primary[0]) if primary else 'none'}; need {', '.join(keys)}); "
                    f"choose another table or file"
                )
            present = {str(row[0]) for row in con.execute(f"DESCRIBE {_quote(table)}").fetchall()}
            for c in columns:
                if c not in present:
                    con.execute(f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(c)} {types[c]}")
        select = ", ".join(
            f"CASE WHEN isnan({_quote(c)}) THEN NULL ELSE {_quote(c)} END AS {_quote(c)}"
            if types[c] in ("FLOAT", "DOUBLE")
            else _quote(c)
            for c in columns
        )
        updates = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c not in keys)
        con.execute(
            f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, columns))}) "
            f"SELECT {select} FROM incoming_points "
            f"ON CONFLICT ({', '.join(map(_quote, keys))}) DO UPDATE SET {updates}"
        )
        con.unregister("incoming_points")
