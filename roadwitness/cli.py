"""The ``roadwitness`` command: serve, worker, process, demo, db upgrade."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from roadwitness.cli_admin import evidence_app, staff_app
from roadwitness.cli_devices import device_app
from roadwitness.cli_inspect import inspect_media, track_app
from roadwitness.cli_rules import rules_app
from settings import Settings, load_settings

app = typer.Typer(
    help="roadwitness: camera evidence of traffic violations in, cases out.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(device_app, name="device")
dashcam_app = typer.Typer(help="The reference dashcam client.", no_args_is_help=True)
app.add_typer(dashcam_app, name="dashcam")
app.add_typer(evidence_app, name="evidence")
app.add_typer(staff_app, name="staff")
app.add_typer(rules_app, name="rules")
app.add_typer(track_app, name="track")
app.command("inspect")(inspect_media)
console = Console(width=None if Console().is_terminal else 120)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Create or migrate the database schema (and Procrastinate's, in distributed mode)."""
    from ingest.migrate import upgrade

    settings = _settings(config)
    upgrade(settings.database_url)
    if settings.queue == "procrastinate":
        from ingest.dispatch import apply_procrastinate_schema

        apply_procrastinate_schema(settings.psycopg_dsn)
    console.print(f"database at head: {settings.database_url}")


@app.command()
def serve(
    config: ConfigOpt = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
) -> None:
    """Run the HTTP API (uploads, status, review queue). Docs at /docs."""
    import os
    import tempfile

    import uvicorn

    from api.app import create_app
    from telemetry.logs import uvicorn_config
    from telemetry.metrics import MULTIPROC_ENV

    settings = _settings(config)  # fail here, once, on bad settings
    logs = uvicorn_config(settings.log_format)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=logs)
        return
    if config is not None:
        os.environ["ROADWITNESS_CONFIG"] = str(config)
    if not os.environ.get(MULTIPROC_ENV):  # one /metrics over all server processes
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="roadwitness-metrics-")
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=logs
    )


@app.command()
def worker(
    config: ConfigOpt = None,
    drain: Annotated[bool, typer.Option(help="Exit once no job is left.")] = False,
    verbose: bool = True,
) -> None:
    """Process queued submissions into candidate cases, until stopped."""
    from cases.services import Services
    from models.weights import ModelUnavailable
    from telemetry.logs import configure
    from workers.jobs import SubmissionProcessor
    from workers.observe import count_job, mark_ready, start_probe, timed_models
    from workers.runner import run

    settings = _settings(config)
    configure(logging.INFO if verbose else logging.WARNING, settings.log_format)
    services = Services.build(settings)
    probe = start_probe(services)  # alive now, ready only once the models are loaded
    models = timed_models(services)
    try:
        models.warm_up()  # before taking any job: a worker that cannot read fails no report
    except ModelUnavailable as exc:
        services.close()
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    mark_ready(probe)
    stop = threading.Event()
    if services.settings.queue == "embedded":
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    processor = SubmissionProcessor(services, models)
    try:
        handled = run(services, processor, stop=stop, drain=drain, on_job=count_job)
    finally:
        services.close()
        if probe is not None:
            probe.close()
    console.print(f"worker stopped after {handled} job(s)")


def _cases_table(title: str, rows: list[dict[str, Any]], expected: dict[str, str | None]) -> Table:
    table = Table(title=title)
    for column in ("source", "rule", "plate", "label", "conf", "vehicle", "colour", "t (s)"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        label = expected.get(row["source"])
        plate = row["plate"] or "(unread)"
        mark = "" if label is None else (" ✓" if label == row["plate"] else " ✗")
        table.add_row(
            Path(row["source"]).name,
            row.get("rule", "-"),
            plate + mark,
            label or "-",
            f"{row['plate_confidence']:.2f}",
            row["vehicle_class"],
            row["plate_colour"] or "-",
            f"{row['t_start']:.1f}–{row['t_end']:.1f}",
        )
    return table


def _read_track(path: Path) -> tuple[Any, ...]:
    from ingest.tracks import parse

    kinds = {".nmea": "nmea", ".txt": "nmea", ".log": "nmea", ".gpx": "gpx", ".json": "json"}
    fmt = kinds.get(path.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(
            f"{path.name}: use a .nmea, .gpx or .json track", param_hint="--track"
        )
    return tuple(parse(path.read_text(encoding="utf-8", errors="replace"), fmt))  # type: ignore[arg-type]


@app.command()
def process(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A video or photo.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for summary.json and evidence.")
    ] = Path("out"),
    violation: Annotated[str | None, typer.Option(help="The declared violation type.")] = None,
    track: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="GPS/time track (NMEA, GPX or JSON)."),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Rule data (YAML).")
    ] = None,
    config: ConfigOpt = None,
    fps: Annotated[float | None, typer.Option(help="Frames sampled per second of video.")] = None,
) -> None:
    """Run the pipeline in-process on a local file; writes OUT/summary.json and one folder of
    evidence per case. With --track the clip's first frame is the track's first fix."""
    from ingest.media import MediaError
    from ingest.tracks import TrackError
    from models.registry import ModelSet
    from models.weights import ModelUnavailable
    from rules import RuleConfigError
    from workers.process import expected_frames, process_file
    from workers.rule_files import load_rules

    settings = _settings(config, sample_fps=fps, rules_file=rules)
    try:
        book = load_rules(settings.rules_file)
        positions = _read_track(track) if track else ()
    except (RuleConfigError, TrackError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    models = ModelSet(
        settings.models_dir,
        settings.detector,
        settings.plate_detector_size,
        settings.plate_reader,
        settings.plate_province_prior,
    )
    with _progress() as progress:
        task = progress.add_task(f"{path.name}", total=None)
        try:
            outcome, summary = process_file(
                path,
                out,
                models,
                book,
                fps=settings.sample_fps,
                max_frames=settings.max_frames,
                declared=violation,
                positions=positions,
                on_start=lambda info: progress.update(
                    task, total=expected_frames(info, settings.sample_fps, settings.max_frames)
                ),
                on_frame=lambda _frame: progress.advance(task),
            )
        except (MediaError, ModelUnavailable) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    from roadwitness.vehicles_table import vehicles_table

    console.print(vehicles_table(summary["vehicles"]))
    rows = [{"source": str(path), **c} for c in summary["cases"]]
    console.print(
        _cases_table(f"{len(rows)} case(s) from {outcome.analysis.frames} frame(s)", rows, {})
    )
    for row in rows:
        console.print(f"  {row['rule']}: {row['explanation']}")
    console.print(f"summary: {out / 'summary.json'}")


@app.command()
def demo(
    config: ConfigOpt = None,
    data: Annotated[Path | None, typer.Option(help="Real sample media (labels.csv).")] = None,
) -> None:
    """Real samples through the whole pipeline (store, database, queue, worker) to cases that
    await an officer's review, in the embedded mode."""
    from roadwitness.demo import run_demo

    settings = _settings(config, samples_dir=data)
    summary = run_demo(settings, _progress(), console)
    rows = summary["cases"]
    expected = {s: p for s, p in summary["labels"].items()}
    console.print(_cases_table(f"{len(rows)} case(s) awaiting review", rows, expected))
    console.print(
        f"plates matching their labels: {summary['matched']}/{summary['labelled']} "
        f"samples; report: {summary['report']}"
    )
    console.print(
        f"next: export ROADWITNESS_DATA_DIR={settings.data_dir}; "
        "`.venv/bin/roadwitness staff add YOU --role officer`, then "
        "`.venv/bin/roadwitness serve` and open http://127.0.0.1:8000/desk (the review desk; "
        "API docs at /docs)"
    )
    if summary["matched"] == 0:
        raise typer.Exit(1)


@dashcam_app.command("upload")
def dashcam_upload(
    clip: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    credential: Annotated[Path, typer.Option(exists=True, help="Device credential file.")],
    server: Annotated[str, typer.Option(help="Base URL of the API.")] = "http://127.0.0.1:8000",
    track: Annotated[Path | None, typer.Option(exists=True, help=".nmea, .gpx or .json")] = None,
    event_id: Annotated[str | None, typer.Option(help="Re-use to resume or re-send.")] = None,
    violation: Annotated[str | None, typer.Option(help="Declared violation type.")] = None,
    chunk_kib: Annotated[int, typer.Option(min=16)] = 1024,
) -> None:
    """Report a clip as a dashcam: signed, chunked, resumed after cuts, retried with backoff."""
    from roadwitness.dashcam import DashcamClient, DeviceCredential, ProtocolError

    size = clip.stat().st_size
    with (
        _progress() as progress,
        DashcamClient(
            server,
            DeviceCredential.load(credential),
            chunk_size=chunk_kib * 1024,
            on_progress=lambda done, _total: progress.update(task, completed=done),
        ) as client,
    ):
        task = progress.add_task(f"uploading {clip.name}", total=size)
        try:
            result = client.report(
                clip, event_id=event_id, track=track, declared_violation=violation
            )
        except (ProtocolError, ConnectionError, ValueError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(1) from exc
        progress.update(task, completed=size)
    console.print(
        f"reported: submission {result.submission_id} "
        f"(resumed {result.resumes} time(s)); status at /v1/reports/{result.submission_id}"
    )


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
