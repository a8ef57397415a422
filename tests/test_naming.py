"""The naming function: every derived path stays inside its root, distinct SKUs never share a key, keys are stable."""

from __future__ import annotations

import ast
import re
from pathlib import Path, PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from skureel.naming import MAX_SLUG, clip_rel, clip_stem, public_id, short_hash, sku_key

SRC = Path(__file__).resolve().parents[1] / "src" / "skureel"
hostile_text = st.one_of(
    st.text(min_size=0, max_size=400),
    st.lists(st.sampled_from(list("./\\-_ \x00:<>|?*~aA1") + ["..", "CON", "nul", "\u202e", "👟"]), max_size=20).map("".join),
    st.sampled_from(["", ".", "..", "../../etc/passwd", "CON", "con.txt", "LPT1", "AB/1", "AB-1", "AB-1/AB-1",
                     "a--b", "a__b", "-x-", "Tee 001", "Tee-001"]),
)


@given(hostile_text)
@settings(max_examples=600, deadline=None)
def test_every_derived_path_stays_inside_its_root(sku: str) -> None:
    key = sku_key(sku)
    assert key and key not in (".", "..") and "/" not in key and "\\" not in key and "\x00" not in key
    assert re.fullmatch(r"[A-Za-z0-9._-]+", key) and not key.startswith((".", "-", "_"))
    assert key.split(".")[0].casefold() not in {"con", "prn", "aux", "nul", "com1", "lpt1"}
    assert len(key) <= MAX_SLUG + 12
    root = Path("/srv/out").resolve()
    for fmt in ("9x16", "16x9"):
        rel = clip_rel(sku, "hero", fmt, ".mp4")
        assert (root / rel).resolve().is_relative_to(root / "clips")
        assert PurePosixPath(rel).parts == ("clips", key, f"{key}__hero__{fmt}.mp4")
        assert len(PurePosixPath(rel).name.encode()) < 200
    assert sku_key(sku) == key  # stable within a process


@given(hostile_text, hostile_text)
@settings(max_examples=600, deadline=None)
def test_distinct_skus_get_distinct_keys(a: str, b: str) -> None:
    if a != b:
        assert sku_key(a) != sku_key(b)
        assert clip_stem(a, "hero", "9x16") != clip_stem(b, "hero", "9x16")


def test_keys_are_readable_and_stable_across_machines() -> None:
    # fixed values: a change here would orphan every published clip, so it must be deliberate
    assert sku_key("AUR-TEE-NVY") == "AUR-TEE-NVY"
    assert sku_key("AB/1") == f"AB-1--{short_hash('AB/1')}" and sku_key("AB-1") == "AB-1"
    assert short_hash("AB/1") == "oiftlnt5rs"
    assert sku_key("Ünïcödé 001").startswith("Unicode-001--")
    assert sku_key("../../escape").startswith("escape--") and sku_key("CON").startswith("CON--")
    long = sku_key("L" * 300)
    assert long.startswith("L" * MAX_SLUG + "--") and long != sku_key("L" * 299)
    assert public_id("brand/autumn", "AB/1", "hero", "9x16") == f"brand/autumn/{sku_key('AB/1')}/{sku_key('AB/1')}__hero__9x16"


def test_no_import_cycles_inside_the_package() -> None:
    """Imports between skureel modules (module-level and lazy ones inside functions) form no cycle."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        deps: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
        for node in ast.walk(tree):  # imports inside functions count too: a lazy import is still a dependency
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("skureel"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("skureel"))
        graph[name] = deps
    modules = set(graph)
    edges = {m: {d for d in deps if d in modules and d != m} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for dep in sorted(edges[module]):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[module] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module)
