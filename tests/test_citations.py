"""The repository is self-contained: its text cites papers, reference code and its own docs, never notes
or files that live outside it (docs/references.md is where the reference facts are written down).

Scans every text file git knows about (tracked, plus untracked files that are not ignored, so a new file
is checked before it is committed) for citations a reader of the repository cannot follow.
"""

import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
THIS_FILE = pathlib.Path(__file__).resolve().relative_to(ROOT).as_posix()
TEXT_SUFFIXES = (".py", ".md", ".txt", ".toml", ".cfg", ".sh")
TEXT_FILES = (".ci/run",)

# (pattern, why it cannot be followed from the repository)
FORBIDDEN = [
    (re.compile(r"REFERENCE\.md", re.IGNORECASE), "developer notes outside the repository; cite docs/references.md"),
    (re.compile(r"DESIGN\.md", re.IGNORECASE), "developer notes outside the repository"),
    (re.compile(r"\bseeds?\s+00\d", re.IGNORECASE), "a paper by seed number; cite it by name"),
    (re.compile(r"\bseed\s+0\d\d\b", re.IGNORECASE), "a paper by seed number; cite it by name"),
    (re.compile(r"\bseeds?/0\d\d", re.IGNORECASE), "a paper by seed file; cite it by name"),
    (re.compile(r"shared/", re.IGNORECASE), "a path outside the repository"),
    # "issue 5", "Issue #12", "issues 3 and 4": the project's own tracker. GitHub references such as
    # google/jax#13800 or jax#13800 carry their repository and do not match.
    (re.compile(r"\bissues?\s+#?\d+", re.IGNORECASE), "an internal issue; state the fact itself"),
    (re.compile(r"\brecalled\b", re.IGNORECASE), "memory is not a source; cite the paper or code"),
]


def scanned_files() -> list[str]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, check=True, capture_output=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout ({error}); nothing to list")
    names = sorted(set(filter(None, listing.split("\0"))))
    return [
        name for name in names
        if (name.endswith(TEXT_SUFFIXES) or name in TEXT_FILES) and name != THIS_FILE and (ROOT / name).is_file()
    ]


def find_citations(text: str) -> list[tuple[int, str, str]]:
    """(line number, matched text, reason) of every forbidden citation in ``text``, one per place."""
    hits = {}
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, reason in FORBIDDEN:
            for match in pattern.finditer(line):
                hits.setdefault((number, match.start()), (number, match.group(0), reason))
    return sorted(hits.values())


def test_patterns_flag_outside_citations_and_allow_github_references():
    # Built from pieces so that this file does not itself cite what it forbids.
    reference, design, seed = "REFERENCE" + ".md", "DESIGN" + ".md", "seed"
    flagged = [f"see {reference} §3.1", design, f"{seed} 002 §3.2", f"{seed}s 000/001 §3", f"{seed.title()} 004's Table 1",
               f"{seed}s/003 Tables 1–4", f"../shared/{seed}s", "Order (issue 5 §3)", "Issue #12", "issues 3 and 4",
               "(recalled)"]
    for text in flagged:
        assert find_citations(text), text
    allowed = ["google/jax#13800", "XLA computes it at dense cost (jax#13800)", "clcNet (Zhang 2018) §3.2",
               "docs/references.md#clcnet", "random seed 0", "seed=0", "an issue with padding",
               "the 2 issues below", "precision and recall"]
    for text in allowed:
        assert not find_citations(text), text


def test_no_citations_outside_the_repository():
    problems = []
    for name in scanned_files():
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        problems += [f"{name}:{number}: {match!r} ({reason})" for number, match, reason in find_citations(text)]
    if problems:
        pytest.fail("citations a reader cannot follow:\n" + "\n".join(problems), pytrace=False)
