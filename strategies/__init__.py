"""Built-in strategies, declared under the ``newsbt.strategies`` entry-point group in pyproject.toml."""
