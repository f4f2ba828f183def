"""The package layout the README's Architecture section draws: imports point one way between stages."""

from __future__ import annotations

import ast
from pathlib import Path

import xlbatch

SRC = Path(xlbatch.__file__).parent
BASE = {"config", "models", "catalogue", "xlbatch"}  # "xlbatch": the package's own __init__ (xlbatch_version)
# What each part may import besides itself. A stage uses only the stages before it; ops (executors,
# outbox, ledger) runs intake and form; outputs publish through ops.outbox; the top uses anything.
ALLOWED = {
    "config": set(),
    "models": {"config"},
    "catalogue": {"config"},
    "intake": BASE,
    "form": BASE | {"intake"},
    "checks": BASE | {"intake", "form"},
    "ops": BASE | {"intake", "form"},
    "outputs": BASE | {"intake", "form", "checks", "ops"},
    "pipeline": BASE | {"intake", "form", "checks", "ops"},
    "nightly": BASE | {"intake", "form", "checks", "ops", "outputs", "pipeline"},
    "counties": BASE | {"intake", "form", "checks", "ops", "outputs", "pipeline", "nightly"},  # run --by county
    "cli": BASE | {"intake", "form", "checks", "ops", "outputs", "pipeline", "nightly", "counties", "terminal"},
    "terminal": set(),  # argparse in Chinese, text wrapped for a terminal: the command line's, nothing else
}

# Data every part may read: the form's vocabulary imports nothing of xlbatch (test_vocabulary), so
# config can check a bureau's [labels] against its roles without an import pointing back; and the
# grammar of a cell's text (form.values: stdlib and the vocabulary only), so config reduces a
# bureau's spelling to the key a label is matched by (values.label_key) as the parser does, and the
# roster reader (intake) reads names as the forms are read.
LEAVES = {"xlbatch.form.vocabulary", "xlbatch.form.values"}


def _part(module: str) -> str:
    """xlbatch.intake.read → intake; xlbatch.config → config; xlbatch → xlbatch."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports(path: Path, text: str | None = None) -> set[str]:
    """The xlbatch modules `path` imports (relative imports resolved), TYPE_CHECKING blocks included."""
    module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "xlbatch" or target.startswith("xlbatch."):
                found.add(target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("xlbatch")}
    return found


def test_every_module_belongs_to_a_part_of_the_map():
    parts = {_part(".".join(p.relative_to(SRC.parent).with_suffix("").parts)) for p in SRC.rglob("*.py")}
    assert parts - {"__init__"} <= set(ALLOWED) | {"xlbatch"}
    assert {"intake", "form", "checks", "outputs", "ops"} <= parts


def test_imports_point_one_way():
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "__init__.py":  # the public API: lazy, names the top on purpose
            continue
        here = _part(".".join(path.relative_to(SRC.parent).with_suffix("").parts))
        for target in _imports(path):
            there = _part(target)
            if there != here and there not in ALLOWED[here] and target not in LEAVES:
                wrong.append(f"{path.relative_to(SRC)} imports {target}")
    assert wrong == []


def test_the_map_catches_an_upward_import():
    """The check itself: intake/read.py importing the workbook writer (relatively) is seen as wrong."""
    path = SRC / "intake" / "read.py"
    text = path.read_text(encoding="utf-8") + "\nfrom ..outputs.workbook import write_workbook\n"
    added = _imports(path, text) - _imports(path)
    assert added == {"xlbatch.outputs.workbook"}
    assert _part("xlbatch.outputs.workbook") not in ALLOWED["intake"]


def test_the_leaves_import_only_leaves():
    """What makes a leaf safe to read from anywhere: it reaches nothing of xlbatch but other leaves."""
    for leaf in LEAVES:
        path = SRC.parent.joinpath(*leaf.split(".")).with_suffix(".py")
        assert _imports(path) <= LEAVES, (leaf, _imports(path) - LEAVES)
