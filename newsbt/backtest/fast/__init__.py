"""engine = "fast": one compiled (numba) simulator of backtrader's broker, driven by strategies' fast forms.

Owns: ``cache`` (where compiled code is kept), ``kernel`` (the compiled broker: orders, fills, costs,
shorts, cash interest, the recorder's log), ``market`` (prices aligned on the run's calendar as arrays, news arrivals from the news gate) and
``runner`` (spec + prices -> a ``RunResult``, or the figures a sweep row needs, without pandas per run).
May import: newsbt.backtest, newsbt.data, newsbt.core, numba, numpy, pandas.

backtrader stays the reference engine; a strategy opts in by declaring a fast form under the
``newsbt.fast_engines`` entry-point group (see ``runner.FastForm``). Compiled code is cached on
disk, in a directory per version of the engine's sources (``cache``), chosen here, before any
compiled function is defined.
"""

import numba

from newsbt.backtest.fast.cache import versioned_cache_dir

numba.config.CACHE_DIR = str(versioned_cache_dir())
