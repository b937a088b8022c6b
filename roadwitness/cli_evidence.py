"""``roadwitness evidence``: check evidence packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from roadwitness.settings import load_settings

evidence_app = typer.Typer(help="Evidence packages.", no_args_is_help=True)
console = Console()
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


@evidence_app.command("verify")
def evidence_verify(
    case_id: Annotated[str, typer.Argument(help="The case whose package to check.")],
    config: ConfigOpt = None,
) -> None:
    """Recompute the SHA-256 of every file of a case's evidence package and of the original,
    and compare them with the database and the package's manifest. Exit 1 on any mismatch."""
    from ingest.custody import verify_case
    from ingest.services import Services

    services = Services.build(load_settings(config))
    with services.sessions.begin() as session:
        try:
            result = verify_case(session, services.store, case_id, "cli:evidence-verify")
        except KeyError:
            console.print(f"[red]error:[/red] no case {case_id}")
            raise typer.Exit(2) from None
    for name in result.checked:
        console.print(f"[green]ok[/green]       {name}")
    for problem in result.problems:
        console.print(f"[red]MISMATCH[/red] {problem}")
    if not result.ok:
        console.print(f"case {case_id}: evidence does NOT verify")
        raise typer.Exit(1)
    console.print(f"case {case_id}: all {len(result.checked)} file(s) verify")
