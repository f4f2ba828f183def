"""The README and the code point at things a clone of the repository holds (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = (ROOT / "docs" / "SPEC.md").read_text(encoding="utf-8")


def spec_sections() -> set[str]:
    return set(re.findall(r"^## (\d+)\. ", SPEC, flags=re.M))


def test_every_spec_section_named_in_the_readme_and_the_code_is_in_docs_spec():
    texts = [README] + [p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")]
    named = {n for text in texts for n in re.findall(r"SPEC(?: section|,? §| sections?) ?(\d+)", text)}
    assert named, "the references are written 'SPEC section N'"
    assert named <= spec_sections(), named - spec_sections()


def test_the_readme_links_resolve_in_the_clone():
    for target in re.findall(r"\]\(((?!https?:|#)[^)]+)\)", README):
        assert (ROOT / target).exists(), target


def test_the_chinese_guide_is_linked_from_the_first_screen():
    first_screen = "\n".join(README.splitlines()[:10])
    assert "[使用说明](#使用说明)" in first_screen
    assert re.search(r"^## 使用说明$", README, flags=re.M)


def test_the_seed_the_spec_names_is_in_docs():
    (name,) = set(re.findall(r"seed/(\d+_[0-9a-f]+\.txt)", SPEC))
    seed = (ROOT / "docs" / "seed" / name).read_text(encoding="utf-8")
    assert "承德县社会保险事业服务中心" in seed and "56.85%" in seed
