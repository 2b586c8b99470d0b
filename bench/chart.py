"""The benchmarks' chart: one PNG with a panel per benchmark (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import ScalarFormatter

Panel = Callable[[Axes, dict[str, Any]], None]
COLOURS = {
    "auto": "#d62728",
    "fixed 5s": "#1f77b4",
    "fixed 10s": "#2ca02c",
    "fixed 30s": "#9467bd",
    "fixed 60s": "#8c564b",
}
MARKERS = {60.0: "o", 300.0: "s", 600.0: "^", 1800.0: "D"}


def startup_panel(ax: Axes, data: dict[str, Any]) -> None:
    variants = data["variants"]
    names = [v["name"] for v in variants]
    medians = [v["median_ms"] for v in variants]
    colours = ["#1f77b4" if "exit" in v["measures"] else "#d62728" for v in variants]
    ax.barh(names, medians, color=colours)
    floor = next(v["median_ms"] for v in variants if "first request" in v["name"])
    ax.axvline(floor + data["target_ms"], color="black", linestyle="--", linewidth=1)
    ax.text(
        floor + data["target_ms"],
        len(variants) - 0.45,
        " floor + target",
        fontsize=7,
        ha="right",
        va="bottom",
    )
    for y, ms in enumerate(medians):
        ax.text(ms, y, f" {ms:.0f}", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms (median); blue: spawn → exit, red: spawn → first request")
    ax.set_title("Start-up", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)


def polling_panel(ax: Axes, data: dict[str, Any]) -> None:
    rows = [r for r in data["rows"] if r["case"] == "finish" and r["history"] != "±5%, build ±20%"]
    for r in rows:
        hollow = r["history"] == "none"
        colour = COLOURS.get(r["strategy"], "grey")
        ax.scatter(
            r["requests_mean"],
            r["worst_lag"],
            marker=MARKERS.get(r["duration"], "o"),
            s=28,
            facecolors="none" if hollow else colour,
            edgecolors=colour,
            linewidths=1.2,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(3, 400)
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("status requests per build (mean)")
    ax.set_ylabel("worst detection lag (s)")
    ax.set_title("Waiting: requests vs lag (hollow: no history)", fontsize=10)
    for name, colour in COLOURS.items():
        ax.scatter([], [], color=colour, label=name, s=20)
    for duration, marker in MARKERS.items():
        ax.scatter([], [], marker=marker, color="grey", label=f"{duration / 60:g} min", s=20)
    ax.legend(fontsize=6, ncol=5, loc="upper center")


def e2e_panel(ax: Axes, data: dict[str, Any]) -> None:
    rows = data["rows"]
    names = [r["config"] for r in rows]
    bottom = [0.0] * len(rows)
    for part, colour in (("before", "#1f77b4"), ("lag", "#d62728"), ("after", "#2ca02c")):
        values = [r[part] for r in rows]
        ax.bar(names, values, bottom=bottom, color=colour, label=part)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.axhline(data["target"], color="black", linestyle="--", linewidth=1, label="target")
    ax.set_ylabel("seconds over the slower build")
    ax.set_title(f"End to end: overhead, {data['build_seconds']:g} s builds", fontsize=10)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7)


def scale_panel(ax: Axes, data: dict[str, Any]) -> None:
    scales = data["scales"]
    labels = [f"{s['jobs']} jobs" for s in scales]
    xs = list(range(len(scales)))
    width = 0.27
    answered = [s["requests"] - s["answered_429"] for s in scales]
    series = (
        ("requests answered", answered, "#1f77b4", -width),
        ("429 answers", [s["answered_429"] for s in scales], "#ff7f0e", 0.0),
        ("failed runs", [len(s["failed"]) for s in scales], "#d62728", width),
    )
    for label, values, colour, shift in series:
        ax.bar([x + shift for x in xs], values, width=width, color=colour, label=label)
        for x, v in zip(xs, values, strict=True):
            ax.text(x + shift, v, str(v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs, labels)
    ax.set_title(
        f"Scale: one key, {scales[0]['limit']} requests / {scales[0]['window']:g} s", fontsize=10
    )
    ax.legend(fontsize=7)


PANELS: dict[str, Panel] = {
    "startup": startup_panel,
    "polling": polling_panel,
    "e2e": e2e_panel,
    "scale": scale_panel,
}


def render(sections: Mapping[str, dict[str, Any]], path: Path) -> None:
    """Draw every panel whose section has data; the others say so."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    for ax, (name, panel) in zip(axes.flat, PANELS.items(), strict=True):
        section = sections.get(name)
        if section is None:
            ax.text(0.5, 0.5, f"{name}: not measured", ha="center", va="center")
            ax.set_axis_off()
            continue
        panel(ax, section["data"])
    fig.suptitle("capwrapper-action benchmarks (docs/benchmarks.md)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
