"""The documentation holds together: the README stays short and links every page in `docs/`, every relative link in
the README, `docs/` and `bench/README.md` reaches an existing file (and heading, when it names one), and every
`docs/….md` path a comment or docstring cites exists."""

import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = [README, REPO / "bench" / "README.md", *sorted(DOCS.rglob("*.md"))]
README_MAX_BYTES = 10 * 1024
CODE_FOLDERS = (
    "accounts",
    "claims",
    "filing",
    "core",
    "notifications",
    "integrations",
    "payments",
    "config",
    "devtools",
    "bench",
    "e2e",
    "scripts",
    "templates",
)

FENCE = re.compile(r"^```.*?^```[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
DOCS_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")


def links(page: Path) -> list[str]:
    """The targets of the Markdown links in `page`, outside code blocks and code spans."""
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces to hyphens, `-1`, `-2`
    for repeats."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: Counter[str] = Counter()
    result = set()
    for heading in HEADING.findall(text):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        result.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return result


def test_the_readme_is_short():
    assert README.stat().st_size <= README_MAX_BYTES, "README.md grew past 10 KB: move the detail into docs/"


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in links(README)}
    unlinked = [str(page.relative_to(REPO)) for page in DOCS.rglob("*.md") if page.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{page.relative_to(REPO)}: {broken}"


def test_docs_cited_in_code_exist():
    sources = [
        *REPO.glob("*.py"),
        *(path for app in CODE_FOLDERS for path in (REPO / app).rglob("*")),
        REPO / "Makefile",
        REPO / "docker-compose.yml",
        REPO / "Dockerfile",
        REPO / ".env.example",
    ]
    missing = set()
    for source in sources:
        if not source.is_file() or source.suffix not in {".py", ".sh", ".yml", ".example", ".txt", ".html", ""}:
            continue
        for cited in DOCS_PATH.findall(source.read_text(encoding="utf-8", errors="replace")):
            if not (REPO / cited).is_file():
                missing.add(f"{source.relative_to(REPO)}: {cited}")
    assert not missing, sorted(missing)
