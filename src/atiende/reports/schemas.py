"""What the reports API returns (and the page shows). Times are seconds; rates are 0..1."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class Stats(BaseModel):
    count: int = 0
    avg: float | None = None
    median: float | None = None
    p90: float | None = None


class TimeMetric(BaseModel):
    """A duration measured on the clock and, labelled apart, in business time (only the campaign
    schedule's open time counts)."""

    clock: Stats
    business: Stats


class VolumeRow(BaseModel):
    id: int
    name: str
    received: int = 0
    answered: int = 0
    closed: int = 0
    abandoned: int = 0


class Summary(BaseModel):
    date_from: date
    date_to: date
    timezone: str
    received: int
    answered: int
    closed: int
    offered: int = Field(description="conversations that reached the agents' queue or an agent")
    abandoned: int
    abandon_rate: float | None
    service_level: float | None = Field(description="share of offered answered by an agent within the "
                                                    "campaign's optimal queue threshold")
    queue_wait: TimeMetric
    first_response: TimeMetric
    handle_time: TimeMetric
    resolution: TimeMetric
    csat_average: float | None
    csat_response_rate: float | None
    bot_started: int
    bot_containment: float | None
    bot_handoff_rate: float | None
    bot_unanswered_questions: int
    by_channel: list[VolumeRow]
    by_campaign: list[VolumeRow]
    by_project: list[VolumeRow]


class SummaryWithChange(BaseModel):
    current: Summary
    previous: Summary = Field(description="the period of the same length just before")


class Bucket(BaseModel):
    start: datetime = Field(description="the bucket's first instant, in the client's zone")
    label: str
    received: int = 0
    answered: int = 0
    closed: int = 0
    abandoned: int = 0


class Timeseries(BaseModel):
    granularity: str = Field(description="hour (a range of one day) or day")
    buckets: list[Bucket]
    heatmap: list[list[int]] = Field(description="received per [weekday 0=Monday][hour 0-23], client's zone")


class AgentRow(BaseModel):
    membership_id: int
    name: str
    handled: int
    handle_time: Stats
    first_response: Stats
    transfers_in: int
    transfers_out: int
    csat_average: float | None
    online_seconds: float
    away_seconds: float
    offline_seconds: float
    busy_seconds: float = Field(description="time online holding at least one conversation")
    occupancy: float | None


class TypificationNode(BaseModel):
    id: int | None
    name: str
    code: str
    count: int = Field(description="conversations closed with exactly this typification")
    total: int = Field(description="count plus every descendant's (the subtotal)")
    children: list["TypificationNode"] = []


class Endings(BaseModel):
    closed: int
    tree: list[TypificationNode]
    untyped: int
    by_close_reason: dict[str, int]


class QuestionStats(BaseModel):
    position: int
    question: str
    kind: str
    responses: int
    distribution: dict[str, int] = Field(description="rating 1-5 or yes/no → answers")
    average: float | None = None


class TextAnswer(BaseModel):
    conversation_id: int
    question: str
    answer: str
    answered_at: datetime


class Csat(BaseModel):
    surveyed: int
    responded: int
    response_rate: float | None
    average: float | None
    satisfied_rate: float | None = Field(description="share of rating answers that are 4 or 5")
    questions: list[QuestionStats]
    text_answers: list[TextAnswer]


class StageRow(BaseModel):
    stage_id: int
    name: str
    position: int
    current: int = Field(description="conversations now at this stage")
    reached: int = Field(description="conversations at this stage or a later one")
    conversion: float | None = Field(description="reached of this stage / reached of the previous one")


class FunnelReport(BaseModel):
    funnel_id: int
    name: str
    without_stage: int
    stages: list[StageRow]


class SlaCounts(BaseModel):
    measured: int = 0
    met: int = Field(0, description="within the optimal threshold")
    low: int = Field(0, description="past optimal, within the low threshold")
    breached: int = Field(0, description="past the low threshold")


class SlaRow(BaseModel):
    campaign_id: int
    name: str
    business_hours: bool
    queue_optimal_seconds: int
    queue_low_seconds: int
    first_response_optimal_seconds: int
    first_response_low_seconds: int
    resolution_hours: int
    queue: SlaCounts
    first_response: SlaCounts
    resolution: SlaCounts
