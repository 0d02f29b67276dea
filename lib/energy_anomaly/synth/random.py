"""Deterministic pseudo-random Columns from hashes: same seed and keys, same value, whatever the
partitioning (``F.rand`` depends on partition layout, so it cannot give reproducible data)."""

from __future__ import annotations

import math

from pyspark.sql import Column
from pyspark.sql import functions as F

_MASK = (1 << 53) - 1


def uniform(seed: int, *keys) -> Column:
    """U[0, 1) from xxhash64 of the seed, a purpose tag and key Columns."""
    hashed = F.xxhash64(F.lit(seed), *[k if isinstance(k, Column) else F.lit(k) for k in keys])
    return (hashed.bitwiseAND(F.lit(_MASK)).cast("double") + 0.5) / float(1 << 53)


def gaussian(seed: int, *keys) -> Column:
    """N(0, 1) by Box-Muller from two independent uniforms."""
    u1, u2 = uniform(seed, "g1", *keys), uniform(seed, "g2", *keys)
    return F.sqrt(-2.0 * F.log(u1)) * F.cos(2.0 * math.pi * u2)


def lognormal_unit_mean(seed: int, sigma: float, *keys) -> Column:
    """exp(sigma * N(0,1)) scaled to mean 1."""
    return F.exp(sigma * gaussian(seed, *keys) - sigma * sigma / 2.0)
