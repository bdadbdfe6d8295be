"""What a handheld screen shows, as data; one template renders every screen the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "error", "info"]


@dataclass(frozen=True)
class Outcome:
    """The answer to one scan: its status and, for errors, what was scanned, expected and next."""

    status: Status
    message: str
    scanned: str | None = None
    expected: str | None = None
    next_step: str | None = None

    @property
    def sound(self) -> str:
        return {"ok": "ok", "error": "error"}.get(self.status, "none")


def ok(message: str) -> Outcome:
    return Outcome("ok", message)


def info(message: str) -> Outcome:
    return Outcome("info", message)


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    arg: str = ""
    style: Literal["primary", "danger", "plain"] = "plain"


@dataclass(frozen=True)
class Choice:
    """A tappable row of a list; tapping sends ``action`` with ``arg`` through the scan queue."""

    label: str
    action: str
    arg: str
    detail: str = ""


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[tuple[list[str], str]]  # cells and a CSS class ("", "done", "over")
    caption: str = ""


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    new_tab: bool = False


@dataclass
class Screen:
    name: str  # flow.step, e.g. "receive.product"; tests and styles key on it
    title: str
    prompt: str
    hint: str = ""
    input: Literal["text", "number"] = "text"
    placeholder: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    choices: list[Choice] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    menu: list[Choice] = field(default_factory=list)  # big tiles on the main menu
    outcome: Outcome | None = None
    expects: str = ""  # what a scan here must be, for error messages (default: the prompt)
    on_error: str = ""  # what to do after a refused scan (default: scan again)
    secret: bool = False  # scans here are credentials (badges): never echoed back or stored
