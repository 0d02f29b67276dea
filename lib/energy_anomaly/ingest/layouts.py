"""The raw LCL file layouts, recognised by their header line.

| layout          | header                                                              |
| --------------- | ------------------------------------------------------------------- |
| kaggle          | ``LCLid,tstp,energy(kWh/hh)`` (one household per file, or block_N)  |
| datastore       | ``LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped`` |
| datastore_3col  | ``LCLid,DateTime,KWH/hh (per half hour) ``                          |
| households      | ``LCLid,stdorToU,Acorn,Acorn_grouped,file`` (household information) |

Headers are compared field by field, trimmed and case-folded (the Datastore kWh header ends in a
space).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    name: str
    header: tuple[str, ...]
    household_col: int
    ts_col: int | None = None
    kwh_col: int | None = None

    @property
    def width(self) -> int:
        return len(self.header)


KAGGLE = Layout("kaggle", ("lclid", "tstp", "energy(kwh/hh)"), household_col=0, ts_col=1, kwh_col=2)
DATASTORE = Layout(
    "datastore",
    ("lclid", "stdortou", "datetime", "kwh/hh (per half hour)", "acorn", "acorn_grouped"),
    household_col=0,
    ts_col=2,
    kwh_col=3,
)
DATASTORE_3COL = Layout(
    "datastore_3col", ("lclid", "datetime", "kwh/hh (per half hour)"), household_col=0, ts_col=1, kwh_col=2
)
HOUSEHOLDS = Layout("households", ("lclid", "stdortou", "acorn", "acorn_grouped", "file"), household_col=0)

LAYOUTS = (KAGGLE, DATASTORE, DATASTORE_3COL, HOUSEHOLDS)
HEADER_ID_FIELD = "lclid"


def normalise_header(line: str) -> tuple[str, ...]:
    return tuple(field.strip().lower() for field in line.lstrip("\ufeff").rstrip("\r\n").split(","))


def detect_layout(header_line: str) -> Layout | None:
    """The layout whose header this line is, or None."""
    fields = normalise_header(header_line)
    return next((layout for layout in LAYOUTS if layout.header == fields), None)
