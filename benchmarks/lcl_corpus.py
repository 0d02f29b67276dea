"""A large LCL-format CSV corpus for benchmarks, built from real rows.

Real households are replicated under new LCLids (``MAC9xxxxx``) into Kaggle ``block_N.csv`` files
of about ``block_mb`` MB each, until ``target_gb`` is reached. The text of each line is the real
line with only the LCLid changed, so parsing costs are those of the real release. Built once and
reused (a stamp file records what was built).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from energy_anomaly.config import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "lcl_sample" / "halfhourly_2013"
HEADER = "LCLid,tstp,energy(kWh/hh)\n"


def _real_households(source: Path) -> list[tuple[str, list[str]]]:
    households = []
    for path in sorted(source.glob("*.csv*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle:
            lines = handle.read().splitlines(keepends=True)[1:]
        households.append((lines[0].split(",", 1)[0], [line.split(",", 1)[1] for line in lines]))
    return households


def build_corpus(
    out_dir: Path, target_gb: float = 1.0, block_mb: int = 128, source: Path = SAMPLE
) -> tuple[list[Path], int]:
    """Writes (or reuses) the corpus; returns its files and its number of data rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = out_dir / f"_built_{target_gb}_{block_mb}"
    if stamp.exists():
        return sorted(out_dir.glob("block_*.csv")), int(stamp.read_text())
    for old in out_dir.glob("block_*.csv"):
        old.unlink()
    households = _real_households(source)
    target, written, rows, copy = target_gb * 1e9, 0, 0, 0
    block, block_bytes, handle = 0, 0, None
    while written < target:
        for _, tails in households:
            if handle is None or block_bytes >= block_mb * 1e6:
                if handle:
                    handle.close()
                handle = open(out_dir / f"block_{block}.csv", "w")
                handle.write(HEADER)
                block, block_bytes = block + 1, len(HEADER)
            household = f"MAC9{copy:05d}"
            text = "".join(household + "," + tail for tail in tails)
            handle.write(text)
            block_bytes += len(text)
            written += len(text)
            rows += len(tails)
            copy += 1
            if written >= target:
                break
    handle.close()
    stamp.write_text(str(rows))
    return sorted(out_dir.glob("block_*.csv")), rows
