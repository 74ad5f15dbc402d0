"""A pyplot backend for processes that only write files: matplotlib's SVG canvas, never redrawn for a screen.

The warm report process (``newsbt.reports.run.warm_reports``) draws with it. ``pyplot.savefig``
redraws every figure after saving it, for interactive windows; QuantStats saves each of a
tearsheet's figures that way, so that redraw was a tenth of a tearsheet. SVG's canvas writes SVG
itself and hands every other format (a chart's PNG) to Agg, as the ``svg`` backend does.
Select it with ``pyplot.switch_backend("module://newsbt.reports.filecanvas")``.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_svg import FigureCanvasSVG


class FigureCanvas(FigureCanvasSVG):
    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Nothing: no screen shows this figure, and every file is drawn when it is saved."""
