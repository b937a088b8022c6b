"""``roadwitness rules``: judge stored clip facts again, without models or media."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

rules_app = typer.Typer(help="Violation rules: replay stored facts.", no_args_is_help=True)
console = Console(width=None if Console().is_terminal else 120)


def replay_findings(facts_path: Path, rules_path: Path | None) -> list[dict[str, Any]]:
    """The findings the rules give today on a ``facts.json`` written by ``roadwitness process``.
    Raises ValueError (FactsError, RuleConfigError) for a file that cannot be used."""
    from rules import evaluate
    from rules.serial import FORMAT, FactsError, facts_from_data, finding_to_data
    from workers.rule_files import load_rules

    try:
        data = json.loads(facts_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FactsError(f"{facts_path}: cannot read JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FactsError(f"{facts_path}: not a {FORMAT} file")
    facts = facts_from_data(data["clip"])
    return [finding_to_data(f) for f in evaluate(facts, load_rules(rules_path))]


@rules_app.command("replay")
def replay(
    facts: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A facts.json.")],
    rules: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Rule data (YAML); default: built in."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the findings here as JSON.")
    ] = None,
) -> None:
    """Judge the facts of a processed clip again with the rules (and RULES.yaml when given):
    a rule change can be tried on stored facts in seconds."""
    try:
        found = replay_findings(facts, rules)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    table = Table(title=f"{len(found)} finding(s)")
    for column in ("rule", "track", "from s", "to s", "confidence", "plate"):
        table.add_column(column)
    for f in found:
        table.add_row(
            f["rule"],
            str(f["track_id"]),
            f"{f['t_start']:.2f}",
            f"{f['t_end']:.2f}",
            f"{f['confidence']:.2f}",
            f["plate"] or "",
        )
    console.print(table)
    for f in found:
        console.print(f"  {f['rule']}: {escape(f['explanation'])}")
    if json_out is not None:
        json_out.write_text(json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8")
