"""Benchmark: the score stage and the floor again, on a warehouse ``full_shape`` already built.

    .venv/bin/python -m benchmarks.score_floor [--households 5567] [--work bench/shape]

For a change that touches only scoring or model inputs. It re-runs ``score`` (replacing the same
period) and the floor, DuckDB CSV->Parquet + raw inference, on the same data and in the same
run. The upstream stages are not repeated, so their ``full_shape`` figures still hold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.full_shape import measure_floor, score_stage, table_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5567, help="which full_shape run (its h<N> folder)")
    parser.add_argument("--work", default="bench/shape")
    args = parser.parse_args()
    root = Path(args.work).resolve() / f"h{args.households}"
    warehouse = root / "warehouse"
    if not (warehouse / "gold" / "features").is_dir():
        raise SystemExit(f"{warehouse}: no gold/features; run benchmarks.full_shape first")
    scored = score_stage(warehouse, table_rows(warehouse, "gold/features"))
    duck_s, rows, raw_s = measure_floor(root)
    print(
        f"score {scored.measured.wall_s:,.0f} s; floor: DuckDB CSV->Parquet {duck_s:,.1f} s ({rows:,} rows) "
        f"+ raw inference {raw_s:,.1f} s = {duck_s + raw_s:,.1f} s"
    )


if __name__ == "__main__":
    main()
