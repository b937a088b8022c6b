"""``roadwitness inspect`` (what the system believes of a photo or clip) and ``roadwitness
track inspect`` (what a GPS log holds, and what of it is kept)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from settings import load_settings

track_app = typer.Typer(help="GPS/time tracks (NMEA, GPX, JSON).", no_args_is_help=True)
console = Console()
TRACK_SUFFIXES = {".nmea": "nmea", ".txt": "nmea", ".log": "nmea", ".gpx": "gpx", ".json": "json"}
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(2)


def _read_track(path: Path, fmt: str | None) -> Any:
    from ingest.tracks import TRACK_FORMATS, TrackError, read

    fmt = fmt or TRACK_SUFFIXES.get(path.suffix.lower())
    if fmt not in TRACK_FORMATS:
        raise _fail(f"{path.name}: name a .nmea/.log, .gpx or .json track, or give --format")
    try:
        return read(path.read_text(encoding="utf-8", errors="replace"), fmt)
    except TrackError as exc:
        raise _fail(f"{path.name}: {exc}") from exc


@track_app.command("inspect")
def track_inspect(
    path: FileArg,
    as_json: JsonOpt = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help="nmea, gpx or json (default: by suffix).")
    ] = None,
) -> None:
    """Fixes kept and dropped (by reason), the first and last fix, and the span of a track, as
    the intake cleans it (repeated fixes dropped, late ones sorted in, void ones skipped)."""
    summary = _read_track(path, fmt).summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    dropped = ", ".join(f"{k} {v}" for k, v in summary["dropped"].items()) or "none"
    console.print(f"kept      {summary['kept']} fixes")
    console.print(f"dropped   {dropped}")
    console.print(
        f"reordered {summary['reordered']}; other lines ignored {summary['ignored_lines']}"
    )
    for end in ("first", "last"):
        fix = summary[end]
        console.print(f"{end:<9} {fix['time']}  {fix['latitude']:.6f}, {fix['longitude']:.6f}")
    console.print(f"span      {summary['span_s']:.3f} s")


def inspect_media(
    path: FileArg,
    as_json: JsonOpt = False,
    track: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="The device's GPS track for a clip."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """What the system believes of a photo or clip: kind, size, duration, and its time and
    place with the source of each (the same rules as the intake)."""
    from ingest.media import MediaError, probe
    from ingest.submissions import Declared, whereabouts

    settings = load_settings(config)
    try:
        info = probe(path, settings.max_video_seconds, path.name)
    except MediaError as exc:
        raise _fail(f"{path.name}: {exc.reason}") from exc
    points = tuple(_read_track(track, None).points) if track else ()
    declared = Declared(track=points, clip_start=points[0].at if points else None)
    where = whereabouts(path, info.kind, declared, settings.camera_time_zone)
    if points and where.time_source == "device_clock":  # the clip starts at the track's start
        where = dataclasses.replace(where, time_source="device_track")
    facts: dict[str, Any] = {
        "file": str(path),
        "kind": info.kind,
        "content_type": info.content_type,
        "bytes": path.stat().st_size,
        "width": info.width,
        "height": info.height,
        "duration_s": info.duration_s,
        "fps": info.fps,
        "codec": info.codec,
        "time": where.clip_start.isoformat() if where.clip_start else None,
        "time_source": where.time_source,
        "time_zone": where.time_zone,
        "latitude": where.latitude,
        "longitude": where.longitude,
        "place_source": where.place_source,
    }
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    for key, value in facts.items():
        console.print(f"{key:<13} {escape('-' if value is None else str(value))}")
