"""The table of every vehicle ``roadwitness process`` prints beside its cases."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def vehicles_table(rows: list[dict[str, Any]]) -> Table:
    """Every vehicle seen, with its plate and, per character, the runner-up where it is
    unsure (below 0.95)."""
    table = Table(title=f"{len(rows)} vehicle(s)")
    for column in ("track", "class", "plate", "conf", "colour", "unsure characters", "t (s)"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        unsure = [
            f"{n + 1}:{alts[0][0]}/{alts[1][0]} {alts[0][1]:.2f}"
            for n, alts in enumerate(row["chars"])
            if alts[0][1] < 0.95 and len(alts) > 1
        ]
        table.add_row(
            str(row["track"]),
            row["class"] + ("" if row["class_confirmed"] else "?"),
            row["plate"] or "(unread)",
            f"{row['plate_confidence']:.2f}",
            row["plate_colour"] or "-",
            ", ".join(unsure) or "-",
            f"{row['t_start']:.1f}–{row['t_end']:.1f}",
        )
    return table
