"""The few chart shapes the pages use, in Altair (rendered by Streamlit's bundled Vega: nothing is fetched)."""

import altair as alt
import pandas as pd

HEIGHT = 260
MONTHS, DAYS = "%b %Y", "%d %b"


def lines(frame: pd.DataFrame, x: str, y: str, colour: str | None = None, y_format: str = ",.0f",
          title: str = "", x_format: str = MONTHS) -> alt.Chart:
    encoding = dict(x=alt.X(f"{x}:T", title=None, axis=alt.Axis(format=x_format, labelAngle=0)),
                    y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=y_format)),
                    tooltip=[alt.Tooltip(f"{x}:T", format=x_format), alt.Tooltip(f"{y}:Q", format=y_format)])
    if colour:
        encoding["color"] = alt.Color(f"{colour}:N", title=None, legend=alt.Legend(orient="bottom"))
        encoding["tooltip"].append(alt.Tooltip(f"{colour}:N"))
    return alt.Chart(frame, title=title, height=HEIGHT).mark_line(point=True).encode(**encoding)


def bars(frame: pd.DataFrame, x: str, y: str, y_format: str = ",.0f", title: str = "",
         sort: str | None = "-y") -> alt.Chart:
    return alt.Chart(frame, title=title, height=HEIGHT).mark_bar().encode(
        x=alt.X(f"{x}:N", title=None, sort=sort, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
        y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=y_format)),
        tooltip=[alt.Tooltip(f"{x}:N"), alt.Tooltip(f"{y}:Q", format=y_format)])


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str, value_format: str = ",.0f", label: str | None = None,
            title: str = "", x_type: str = "O", y_type: str = "O", x_sort="ascending",
            y_sort="descending", x_title: str | None = None, y_title: str | None = None,
            cell_height: int = 40) -> alt.LayerChart:
    """Cells coloured by `value`, each labelled with `label` (default: the value); a label's lines split at
    newlines."""
    base = alt.Chart(frame, title=title, height=cell_height * max(1, frame[y].nunique())).encode(
        x=alt.X(f"{x}:{x_type}", title=x_title or x, sort=x_sort, axis=alt.Axis(labelOverlap=False, labelAngle=0
                                                                                 if x_type == "O" else -40)),
        y=alt.Y(f"{y}:{y_type}", title=y_title or y, sort=y_sort, axis=alt.Axis(labelOverlap=False)))
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=None, scale=alt.Scale(scheme="blues")),
        tooltip=[alt.Tooltip(f"{x}:{x_type}"), alt.Tooltip(f"{y}:{y_type}"),
                 alt.Tooltip(f"{value}:Q", format=value_format)] + ([alt.Tooltip(f"{label}:N")] if label else []))
    text = base.mark_text(fontSize=11, lineBreak="\n").encode(
        text=alt.Text(f"{label}:N") if label else alt.Text(f"{value}:Q", format=value_format))
    return cells + text
