"""``roadwitness evidence`` (check evidence packages) and ``roadwitness staff`` (accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from settings import load_settings

evidence_app = typer.Typer(help="Evidence packages.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts: officers, supervisors, admins.", no_args_is_help=True)
console = Console()
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


@evidence_app.command("verify")
def evidence_verify(
    case_id: Annotated[str, typer.Argument(help="The case whose package to check.")],
    config: ConfigOpt = None,
) -> None:
    """Recompute the SHA-256 of every file of a case's evidence package and of the original,
    and compare them with the database and the package's manifest. Exit 1 on any mismatch."""
    from cases.custody import verify_case
    from cases.services import Services

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


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="officer, supervisor or admin.")] = "officer",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="ROADWITNESS_PASSWORD"
        ),
    ] = "",
    config: ConfigOpt = None,
) -> None:
    """Create a staff account that signs in to the review desk and the staff API."""
    from cases.services import Services

    services = Services.build(load_settings(config))
    try:
        services.staff.add_user(username, role, password, name, "cli:staff-add")
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        services.close()
    console.print(f"{role} {username} added; sign in at /desk")
