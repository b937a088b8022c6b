"""The import rules of docs/architecture.md, checked by walking every module's imports (ast).

A module belongs to the layer its package names in ``LAYERS``. An import of one of our packages
is an edge between layers; an edge listed in ``FORBIDDEN`` is a violation, and so is a forbidden
third-party module or a file read in a layer that must do no I/O.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

LAYERS = (
    "rules",
    "settings",
    "telemetry",
    "models",
    "ingest",
    "cases",
    "workers",
    "api",
    "roadwitness",
)
OURS = frozenset(LAYERS)
FORBIDDEN: dict[str, frozenset[str]] = {
    "settings": OURS - {"settings"},
    "telemetry": OURS - {"telemetry"},
    "models": OURS - {"models"},
    "rules": OURS - {"rules", "models"},
    "ingest": frozenset({"api", "workers", "cases", "roadwitness"}),
    "cases": frozenset({"api", "workers", "roadwitness"}),
    "workers": frozenset({"api", "roadwitness"}),
    "api": frozenset({"roadwitness"}),
}
NO_IO_LAYERS = frozenset({"rules"})
IO_MODULES = frozenset(
    {"cv2", "yaml", "av", "sqlalchemy", "minio", "httpx", "socket", "urllib", "subprocess"}
    | {"onnxruntime", "ultralytics", "requests", "shutil", "tempfile"}
)
IO_CALLS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes"})


@dataclass(frozen=True, order=True)
class Violation:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def layer_of(module: str) -> str | None:
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names (relative imports made absolute)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _io_calls(tree: ast.AST) -> list[tuple[int, str]]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else ""
            )
            if name in IO_CALLS:
                calls.append((node.lineno, name))
    return calls


def violations(root: Path) -> list[Violation]:
    """All forbidden edges, forbidden modules and file reads in the packages under ``root``."""
    found: set[Violation] = set()
    tops = sorted({layer.split(".")[0] for layer in LAYERS})
    for path in sorted(p for top in tops for p in (root / top).rglob("*.py")):
        module = module_name(root, path)
        layer = layer_of(module)
        if layer is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported(tree, module, path.name == "__init__.py"):
            target = layer_of(name)
            if target is not None and target in FORBIDDEN.get(layer, frozenset()):
                found.add(Violation(module, line, f"{layer} imports {name} ({target})"))
            top = name.split(".")[0]
            if layer in NO_IO_LAYERS and top in IO_MODULES:
                found.add(Violation(module, line, f"{layer} imports {top} (I/O or cv2)"))
        if layer in NO_IO_LAYERS:
            found |= {Violation(module, ln, f"{layer} calls {c}()") for ln, c in _io_calls(tree)}
    return sorted(found)
