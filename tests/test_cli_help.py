"""Every --help text shows what it says: TOML section names like [sweep] stay literal (no rich markup)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from newsbt.cli import app


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``group``, with the arguments that reach it."""
    found = [(path, group)]
    for name, sub in getattr(group, "commands", {}).items():  # typer vendors click: no isinstance(click.Group)
        found += commands(sub, (*path, name))
    return found


ALL = commands(typer.main.get_command(app))


def test_sweep_help_names_the_sweep_section():
    result = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Backtest file with a [sweep] section (TOML)." in result.output


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "newsbt")
def test_every_bracketed_word_of_a_help_text_is_shown(path):
    command = dict(ALL)[path]
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    bracketed = {m for text in texts for m in re.findall(r"\[[a-z_.]+\]", text)}
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for word in bracketed:
        assert word in result.output, (path, word)


def test_some_help_text_has_a_section_name():
    """The check above is not vacuous: every command is visited, and study and sweep name their sections."""
    assert {" ".join(p) for p, _ in ALL} >= {"run", "sweep", "study", "data list", "data fetch", "events check"}
    texts = [getattr(p, "help", "") or "" for _, c in ALL for p in c.params]
    assert sum("[sweep]" in t or "[study]" in t for t in texts) >= 2
