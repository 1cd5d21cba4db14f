"""The committee's documents: the assessment report (and the audit story) as md, html, json.

Templates live in ``infra/report_templates`` (``infra/templates`` holds the mail). The
HTML report draws its charts with plotly and carries plotly.js inline, so the file opens
offline, attached to an email or from a shared drive. The report dict holds figures and
unattributed comments only, so nothing rendered here can name a respondent.
"""

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment
from markupsafe import Markup
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from domain.assessment import QUESTION_TEXT, SCALE_QUESTIONS
from domain.errors import DomainError
from infra.templating import template_environment

REPORT_TEMPLATES = Path(__file__).with_name("report_templates")
FORMATS = ("md", "html", "json")
_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})
_CHART_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}
_BLUE, _ORANGE, _GREEN = "#1f5f8b", "#d9822b", "#3a8f5c"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: float | None, as_percent: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.0f} pts" if as_percent else f"{value:+.2f}"


def _markdown_text(value: object) -> str:
    """Free text safe inside a markdown table cell or list item."""
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


@functools.cache
def environment() -> Environment:
    return template_environment(
        REPORT_TEMPLATES,
        {"percent": _percent, "number": _number, "signed": _signed, "md": _markdown_text},
    )


def render_document(template: str, **context: Any) -> str:
    """One of the report templates, rendered with ``context``."""
    return environment().get_template(template).render(context)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise DomainError(f"format {fmt!r} is not available; use {', '.join(FORMATS)}")
    return fmt


def _distribution_chart(question: str, counts: Mapping[str, int]) -> go.Figure:
    labels = [label.capitalize() for label in counts]
    total = sum(counts.values())
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=list(counts.values()),
            marker_color=_BLUE if question in SCALE_QUESTIONS else _GREEN,
            text=[f"{n} ({n / total:.0%})" if total else str(n) for n in counts.values()],
            textposition="outside",
            hovertemplate="%{x}: %{y} answer(s)<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": QUESTION_TEXT[question], "font": {"size": 15}},
        xaxis={"type": "category", "title": {"text": "answer"}},
        yaxis={"title": {"text": "answers"}, "rangemode": "tozero"},
        height=320,
        margin={"l": 50, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="white",
    )
    return figure


def _trend_chart(trend: Mapping[str, Any]) -> go.Figure:
    years = [str(y) for y in trend["years"]]
    series = trend["series"]
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Mean rating (1–5)", "Share of answers (%)")
    )
    for name, colour in zip(SCALE_QUESTIONS, (_BLUE, _ORANGE), strict=True):
        figure.add_trace(
            go.Scatter(
                x=years,
                y=series[name],
                name=QUESTION_TEXT[name],
                mode="lines+markers",
                line={"color": colour},
            ),
            row=1,
            col=1,
        )
    shares = (
        ("response_rate", "Response rate", "#555555"),
        ("would_recommend", QUESTION_TEXT["would_recommend"], _GREEN),
        ("will_continue", QUESTION_TEXT["will_continue"], _ORANGE),
    )
    for name, label, colour in shares:
        figure.add_trace(
            go.Scatter(
                x=years,
                y=[None if v is None else round(v * 100, 1) for v in series[name]],
                name=label,
                mode="lines+markers",
                line={"color": colour, "dash": "dot" if name == "response_rate" else "solid"},
            ),
            row=1,
            col=2,
        )
    figure.update_yaxes(range=[1, 5.2], row=1, col=1)
    figure.update_yaxes(range=[0, 105], row=1, col=2)
    figure.update_xaxes(type="category", title_text="cycle")
    figure.update_layout(
        height=380,
        margin={"l": 50, "r": 20, "t": 40, "b": 50},
        legend={"orientation": "h", "y": -0.25},
        plot_bgcolor="white",
    )
    return figure


def _chart_html(figure: go.Figure, div_id: str) -> Markup:
    return Markup(
        pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            config=_CHART_CONFIG,
            div_id=div_id,
        )
    )


def render_report(report: Mapping[str, Any], fmt: str) -> str:
    """The assessment report from :func:`flows.usecases.assessment.report`."""
    check_format(fmt)
    if fmt == "json":
        return json.dumps(report, indent=2, default=str) + "\n"
    if fmt == "md":
        return render_document("assessment.md.j2", r=report, questions=QUESTION_TEXT)
    charts = {
        question: _chart_html(_distribution_chart(question, counts), f"chart-{question}")
        for question, counts in report["distributions"].items()
    }
    return render_document(
        "assessment.html.j2",
        r=report,
        questions=QUESTION_TEXT,
        charts=charts,
        trend_chart=_chart_html(_trend_chart(report["trend"]), "chart-trend"),
        plotly_js=Markup(get_plotlyjs()),
    )
