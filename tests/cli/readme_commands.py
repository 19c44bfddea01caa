"""The README's shell examples as the tests read them: every `sh` block that calls `treasury-app`, where it
stands (its section and line), its commands as words (continuations joined, comments dropped), and what a
person types at each command's questions."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from desk_fixtures import PROJECT_ROOT, password_of

README = PROJECT_ROOT / "README.md"
APP = "treasury-app"


@dataclass(frozen=True)
class ReadmeBlock:
    section: str  # the `## ` heading it stands under
    line: int  # of its first command
    commands: tuple[tuple[str, ...], ...]  # each as words, `treasury-app` first

    def where(self) -> str:
        return f"README.md line {self.line} ({self.section})"


def readme_blocks() -> list[ReadmeBlock]:
    """The README's `sh` blocks that call the app, in order; a `text` block is a synopsis and is not run."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, section, index = [], "", 0
    while index < len(lines):
        if lines[index].startswith("## "):
            section = lines[index][3:].strip()
        if lines[index].strip() == "```sh":
            end = lines.index("```", index + 1)
            body = "\n".join(lines[index + 1:end]).replace("\\\n", " ")
            commands = tuple(tuple(shlex.split(line, comments=True)) for line in body.splitlines() if line.strip())
            if any(words[:1] == (APP,) for words in commands):
                blocks.append(ReadmeBlock(section, index + 2, commands))
            index = end
        index += 1
    return blocks


def section_blocks(section: str) -> list[ReadmeBlock]:
    found = [block for block in readme_blocks() if block.section == section]
    assert found, f"the README has no runnable block under '## {section}'"
    return found


def answers_for(words: tuple[str, ...] | list[str]) -> tuple[str | None, str]:
    """The password `--as NAME` asks for (TREASURY_PASSWORD, as the README says scripts give it), and what the
    command reads on stdin: a new operator's password, or the yes that `payout execute` asks for."""
    acting = words[words.index("--as") + 1] if "--as" in words else None
    password = password_of(acting) if acting else None
    if tuple(words[:2]) == ("operator", "add"):
        return password, password_of(words[2]) + "\n"
    if tuple(words[:2]) == ("payout", "execute"):
        return password, "y\n"
    return password, ""


def readme_synopses() -> list[tuple[int, str]]:
    """Each `treasury-app …` line of the README's `text` blocks with its indented continuation lines (comments
    dropped), and its line number: the synopses, whose options must exist although they do not run as such."""
    found: list[tuple[int, str]] = []
    inside = continuing = False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() in ("```text", "```"):
            inside, continuing = line.strip() == "```text", False
            continue
        text = line.split("#", 1)[0].rstrip()
        if inside and text.startswith(APP + " "):
            found.append((number, text))
            continuing = True
        elif inside and continuing and text.startswith(" ") and text.strip():
            found[-1] = (found[-1][0], f"{found[-1][1]} {text.strip()}")
        else:
            continuing = False
    return found
