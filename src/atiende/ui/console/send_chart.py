"""The send page's chart over time (Administración → Envíos): sent, delivered, read, failed and
replied per bucket of ``outbound/timeline.py``, in the client's time zone. The chart is made once
and lives outside the page's refreshed detail, so the page's timer only sets its options: ECharts
merges them and the lines grow in place."""

from typing import Any

from nicegui import ui

from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.outbound.service import outbound_service
from atiende.outbound.timeline import DAY, MILESTONES, Timeline, TimelinePoint, send_timeline
from atiende.ui.components import testid
from atiende.ui.context import act

COLORS = {"sent": "#2563eb", "delivered": "#f59e0b", "read": "#15803d", "failed": "#b91c1c", "replied": "#7c3aed"}


def labels(points: list[TimelinePoint], bucket_seconds: int) -> list[str]:
    """Bucket starts as the client reads them: seconds when buckets are shorter than a minute,
    the day first once the send spans several days."""
    if bucket_seconds >= DAY:
        return [p.start.strftime("%d/%m") for p in points]
    pattern = "%H:%M:%S" if bucket_seconds < 60 else "%H:%M"
    if points and points[0].start.date() != points[-1].start.date():
        pattern = "%d/%m " + pattern
    return [p.start.strftime(pattern) for p in points]


def chart_options(timeline: Timeline | None) -> dict[str, Any]:
    points = timeline.points if timeline else []
    few = len(points) <= 30
    return {
        "color": list(COLORS.values()),
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "left": "center", "itemGap": 10, "itemWidth": 16},
        "grid": {"left": 8, "right": 28, "top": 60, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "boundaryGap": False, "axisLabel": {"hideOverlap": True},
                  "data": labels(points, timeline.bucket_seconds) if timeline else []},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": t(f"outbound.chart_{name}"), "type": "line", "showSymbol": few, "symbolSize": 5,
                    "data": [getattr(p, name) for p in points]} for name in MILESTONES],
    }


class SendChart:
    """Hidden until the selected send has started; ``show`` is called on every refresh of the page."""

    def __init__(self) -> None:
        with ui.card().classes("w-full q-pa-sm gap-1").props("flat bordered") as self.card:
            ui.label(t("outbound.chart_title")).classes("text-subtitle2")
            self.caption = ui.label().classes("text-caption text-grey-7")
            self.chart = testid(ui.echart(chart_options(None)).classes("w-full").style("height: 300px"),
                                "send-chart")
        self.card.set_visibility(False)

    async def show(self, send_id: int | None) -> None:
        timeline = await self._load(send_id)
        self.card.set_visibility(timeline is not None)
        if timeline is None:
            return
        self.caption.set_text(t("outbound.chart_caption", zone=timeline.timezone))
        self.chart.options.update(chart_options(timeline))
        self.chart.update()

    async def _load(self, send_id: int | None) -> Timeline | None:
        if send_id is None:
            return None
        try:
            async with act() as acting:
                send = await outbound_service.get(acting.session, acting.caller, send_id)
                if send.started_at is None:
                    return None
                return await send_timeline(acting.session, send)
        except AtiendeError:
            return None
