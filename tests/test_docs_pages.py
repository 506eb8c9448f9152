"""The README and the pages under docs/ stay honest: every relative link and image points to a file that
exists (and a ``#anchor`` to a heading of that file, as GitHub names headings), every docs page is reachable
from the README, the README keeps the set-up commands CI runs, and it stays a short user's guide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: the README is a user's guide of a few screens; the details live in docs/
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code spans, with line breaks kept."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            kept.append("")
        else:
            kept.append("" if fenced else line)
    return CODE_SPAN.sub(lambda match: "code" + "\n" * match.group(0).count("\n"), "\n".join(kept))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: the text without markup, lower case, punctuation dropped, spaces to -."""
    text = CODE_SPAN.sub(lambda match: match.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text
    text = re.sub(r"[*_]{1,3}([^*_]+)[*_]{1,3}", r"\1", text)  # emphasis
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file (a repeated heading gets -1, -2 ... as on GitHub)."""
    seen: dict[str, int] = {}
    result = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(page: Path) -> list[str]:
    """The relative links and images of a page that point nowhere, as 'line: target (why)'."""
    problems = []
    for number, line in enumerate(prose(page.read_text(encoding="utf-8")).splitlines(), start=1):
        for match in LINK.finditer(line):
            target = match.group(1)
            if EXTERNAL.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            file = (page.parent / path_part).resolve() if path_part else page
            if not file.exists():
                problems.append(f"{number}: {target} (no file {path_part})")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                problems.append(f"{number}: {target} (no heading #{anchor} in {file.name})")
            elif anchor and file.suffix != ".md":
                problems.append(f"{number}: {target} (an anchor into a file that is not Markdown)")
    return problems


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_and_image_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_is_a_short_users_guide() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move details to docs/"


def test_the_readme_keeps_the_set_up_commands_ci_runs() -> None:
    commands = [line.split("#")[0].strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert "make demo" in commands
    assert "make test" in commands
    targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert {"demo", "test"} <= set(targets)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {
        (README.parent / match.group(1).partition("#")[0]).resolve()
        for match in LINK.finditer(prose(README.read_text(encoding="utf-8")))
    }
    assert [page.name for page in sorted(DOCS.glob("*.md")) if page.resolve() not in linked] == []


def test_the_learned_forecast_data_keeps_its_citation() -> None:
    forecasting = (DOCS / "forecasting.md").read_text(encoding="utf-8")
    assert "LCDB 1.1" in forecasting and "Yan, Mohr, Viering" in forecasting and "CC BY 4.0" in forecasting
    assert "docs/forecasting.md" in README.read_text(encoding="utf-8")


def test_the_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading: yes\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#a-code-heading-yes) [own](#page) [web](https://example.org/x)\n"
        "[gone](missing.md) ![picture](missing.png)\n"
        "[no heading](other.md#nowhere) [own gone](#nowhere)\n"
        "`[in code](missing.md)`\n\n```\n[fenced](missing.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "4: missing.md (no file missing.md)",
        "4: missing.png (no file missing.png)",
        "5: other.md#nowhere (no heading #nowhere in other.md)",
        "5: #nowhere (no heading #nowhere in page.md)",
    ]


def test_anchors_follow_githubs_rules() -> None:
    assert slug("Plan versus actual: `annoplan track` and `/v1/plans/{id}/actuals`") == (
        "plan-versus-actual-annoplan-track-and-v1plansidactuals"
    )
    assert slug("The learned model: LCDB 1.1") == "the-learned-model-lcdb-11"
    assert slug("Keys, tenants and retries") == "keys-tenants-and-retries"
