"""The architecture holds: layers point down, no import cycle, strategies arrive by entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest
from typer.testing import CliRunner

from newsbt.backtest import registry
from newsbt.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    done = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_import_cycle_anywhere():
    graph = grimp.build_graph("newsbt", "strategies", exclude_type_checking_imports=True)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append((module, *back))
    assert cycles == []


def test_a_strategy_declared_under_the_entry_point_group_is_found_by_name(tmp_path, monkeypatch):
    # A package "installed" only as files on sys.path: a module and its dist-info entry point.
    (tmp_path / "acme_strats.py").write_text(textwrap.dedent("""
        from newsbt import NewsbtStrategy, StrategyParams

        class Hold(NewsbtStrategy):
            class Params(StrategyParams):
                ticker: str = "QQQ"
    """))
    dist = tmp_path / "acme_strats-1.2.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-strats\nVersion: 1.2\n")
    (dist / "entry_points.txt").write_text("[newsbt.strategies]\nacme_hold = acme_strats:Hold\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    monkeypatch.setattr(registry, "_ORIGINS", dict(registry._ORIGINS))

    cls = registry.get_strategy("acme_hold")
    assert cls.__module__ == "acme_strats" and cls.__name__ == "Hold"
    assert registry.strategy_origin("acme_hold") == "acme_strats:Hold (entry point of acme-strats 1.2)"

    listing = CliRunner().invoke(app, ["strategies"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    assert "acme_hold: ticker='QQQ'" in listing.output
    assert "from acme_strats:Hold (entry point of acme-strats 1.2)" in listing.output
    assert "from strategies.crash_dip:CrashDip (entry point of newsbt" in listing.output


def test_a_registered_class_is_listed_with_its_origin(monkeypatch):
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    monkeypatch.setattr(registry, "_ORIGINS", dict(registry._ORIGINS))
    from newsbt import NewsbtStrategy, StrategyParams, register

    @register("scripted")
    class Scripted(NewsbtStrategy):
        class Params(StrategyParams):
            pass

    assert registry.strategy_origin("scripted").endswith("Scripted (@register)")


def test_the_core_does_not_import_the_builtin_strategies():
    code = "import sys, newsbt.backtest.engine, newsbt.sweep.runner, newsbt.study; print(any(m.startswith('strategies') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr


def test_the_command_line_starts_its_report_process_before_importing_the_engines():
    """``newsbt run`` forks its warm report process first: what ``newsbt.cli`` imports by then is on
    that process's path to its first drawing (backtrader, pydantic and numba come after, in parallel)."""
    code = ("import sys, newsbt.cli; print(sorted(m for m in ('backtrader', 'pydantic', 'numba', 'scipy', "
            "'newsbt.backtest.engine', 'newsbt.api') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_package_names_its_public_api_without_importing_it_first():
    code = ("import sys, newsbt; before = 'backtrader' in sys.modules; from newsbt import *; "
            "print(before, NewsbtStrategy.__module__, register.__module__, NewsbtError.__module__, "
            "StrategyParams.__module__, sorted(set(newsbt.__all__) - set(dir(newsbt))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "newsbt.backtest.strategy", "newsbt.backtest.registry",
                                   "newsbt.core.errors", "newsbt.backtest.strategy", "[]"]
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        import newsbt

        newsbt.missing  # noqa: B018


def test_the_command_line_process_leaves_quantstats_scipy_stats_and_pyplot_to_the_report_workers():
    """Each costs 0.25 to 1 s of import; the warm report process imports them while the CLI works."""
    code = ("import sys, newsbt.cli, newsbt.sweep.report, newsbt.sweep.runner, newsbt.reports.run; "
            "print(sorted(m for m in ('quantstats', 'scipy.stats', 'matplotlib.pyplot', 'seaborn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["core", "data", "data.news", "backtest", "backtest.fast", "reports", "sweep", "study", "cli"])
def test_each_subpackage_says_what_it_owns_and_may_import(package):
    doc = __import__(f"newsbt.{package}", fromlist=["_"]).__doc__
    assert doc and "Owns:" in doc and "May import:" in doc


def test_a_class_registered_over_an_entry_point_name_is_listed_as_registered(monkeypatch):
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    monkeypatch.setattr(registry, "_ORIGINS", dict(registry._ORIGINS))
    from newsbt import NewsbtStrategy, StrategyParams, register

    registry.load_entry_points()

    @register("crash_dip")
    class MyDip(NewsbtStrategy):
        class Params(StrategyParams):
            pass

    assert registry.get_strategy("crash_dip") is MyDip
    assert registry.strategy_origin("crash_dip").endswith("MyDip (@register)")
