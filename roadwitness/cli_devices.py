"""``roadwitness device``: register devices, rotate their keys, revoke them (administrators)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from settings import load_settings

device_app = typer.Typer(
    help="Devices: register, rotate keys, revoke (administrators).", no_args_is_help=True
)
console = Console()
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


def _identity(config: Path | None) -> Any:
    from ingest.db import make_engine, make_sessionmaker
    from ingest.identity import Identity

    return Identity(make_sessionmaker(make_engine(load_settings(config).database_url)))


def _save_credential(credential: Any, key_out: Path | None) -> None:
    from roadwitness.dashcam import DeviceCredential

    console.print(f"device {credential.device_id}: key id {credential.key_id}")
    if credential.private_key is None:
        console.print("public key registered; the device keeps its private key")
    elif key_out is not None:
        DeviceCredential(credential.device_id, credential.key_id, credential.private_key).save(
            key_out
        )
        console.print(f"credential written to {key_out} (mode 600): install it on the device")
    else:
        console.print(
            f"private key (shown once, install it on the device): {credential.private_key}"
        )


KeyOut = Annotated[Path | None, typer.Option(help="Write the device credential file here.")]
PublicKey = Annotated[
    str | None,
    typer.Option(
        help="The device's own Ed25519 public key (base64); without it a pair is generated."
    ),
]


@device_app.command("add")
def device_add(
    device_id: str,
    owner: Annotated[str, typer.Option()],
    model: Annotated[str, typer.Option()],
    public_key: PublicKey = None,
    key_out: KeyOut = None,
    config: ConfigOpt = None,
) -> None:
    """Register a device and its first key."""
    try:
        credential = _identity(config).register_device(device_id, owner, model, public_key)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    _save_credential(credential, key_out)


@device_app.command("rotate")
def device_rotate(
    device_id: str,
    public_key: PublicKey = None,
    key_out: KeyOut = None,
    grace_hours: Annotated[float, typer.Option(help="Old keys stay valid.")] = 24,
    config: ConfigOpt = None,
) -> None:
    """Give a device a new key; its old keys stop working after the grace period."""
    from datetime import timedelta

    try:
        credential = _identity(config).rotate_key(
            device_id, public_key, timedelta(hours=grace_hours)
        )
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    _save_credential(credential, key_out)


@device_app.command("revoke")
def device_revoke(device_id: str, config: ConfigOpt = None) -> None:
    """Revoke a device: every request it signs is refused from now on."""
    try:
        _identity(config).revoke_device(device_id)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    console.print(f"device {device_id} revoked")
