"""ECharts options for the Reportes page, built from the report schemas (pure, testable)."""

from typing import Any

from atiende.i18n import t
from atiende.reports.schemas import Csat, Endings, FunnelReport, Timeseries

PALETTE = ["#0f766e", "#f59e0b", "#334155", "#b91c1c", "#6366f1"]


def volume(series: Timeseries) -> dict[str, Any]:
    labels = [b.label for b in series.buckets]
    lines = [("received", [b.received for b in series.buckets]), ("answered", [b.answered for b in series.buckets]),
             ("closed", [b.closed for b in series.buckets]), ("abandoned", [b.abandoned for b in series.buckets])]
    return {"color": PALETTE, "tooltip": {"trigger": "axis"}, "legend": {"bottom": 0},
            "grid": {"left": 40, "right": 16, "top": 16, "bottom": 48},
            "xAxis": {"type": "category", "data": labels}, "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": t(f"reports.kpi.{key}"), "type": "line" if key != "received" else "bar",
                        "data": data, "smooth": True} for key, data in lines]}


def heatmap(series: Timeseries) -> dict[str, Any]:
    days = [t(f"reports.weekday.{d}") for d in range(7)]
    data = [[hour, day, n] for day, row in enumerate(series.heatmap) for hour, n in enumerate(row)]
    top = max((n for _h, _d, n in data), default=0)
    return {"tooltip": {"position": "top"}, "grid": {"left": 48, "right": 16, "top": 8, "bottom": 24},
            "xAxis": {"type": "category", "data": [f"{h:02d}" for h in range(24)], "splitArea": {"show": True}},
            "yAxis": {"type": "category", "data": days, "splitArea": {"show": True}},
            "visualMap": {"min": 0, "max": max(top, 1), "show": False, "orient": "horizontal", "left": "center",
                          "bottom": 0, "inRange": {"color": ["#f0fdfa", "#0f766e"]}},
            "series": [{"name": t("reports.chart.heatmap"), "type": "heatmap", "data": data,
                        "label": {"show": False}}]}


def typifications(endings: Endings) -> dict[str, Any]:
    shown = []  # a root that only groups others shows its children (the tree's subtotals are in the API)
    for root in endings.tree:
        if root.children and root.count == 0:
            shown.extend(root.children)
        else:
            shown.append(root)
    nodes = sorted(shown, key=lambda n: n.total)
    return {"color": PALETTE, "tooltip": {"trigger": "axis"}, "grid": {"left": 8, "right": 24, "top": 8,
                                                                     "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1}, "yAxis": {"type": "category", "data": [n.name for n in nodes]},
            "series": [{"type": "bar", "name": t("reports.chart.typifications"), "data": [n.total for n in nodes]}]}


def csat(report: Csat) -> dict[str, Any]:
    ratings = next((q for q in report.questions if q.kind == "rating"), None)
    values = [ratings.distribution.get(str(k), 0) for k in range(1, 6)] if ratings else [0] * 5
    return {"color": ["#b91c1c", "#f97316", "#f59e0b", "#65a30d", "#15803d"], "tooltip": {"trigger": "axis"},
            "grid": {"left": 32, "right": 16, "top": 8, "bottom": 24},
            "xAxis": {"type": "category", "data": ["1", "2", "3", "4", "5"]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"type": "bar", "name": t("reports.chart.csat"), "colorBy": "data", "data": values}]}


def funnel(report: FunnelReport | None) -> dict[str, Any]:
    stages = report.stages if report else []
    return {"color": PALETTE, "tooltip": {"trigger": "item"},
            "series": [{"type": "funnel", "name": report.name if report else "", "sort": "none", "left": "10%",
                        "width": "80%", "label": {"show": True, "position": "inside"},
                        "data": [{"name": s.name, "value": s.reached} for s in stages]}]}
