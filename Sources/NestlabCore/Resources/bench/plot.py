#!/usr/bin/env python3
"""Draws the bar charts of `nestlab report`: python3 plot.py SPEC OUTDIR

SPEC is the JSON nestlab writes (charts.json): {"version": 1, "charts": [...]}, one chart
per benchmark metric. Each chart gets one bar per series (environment/runtime): its mean
over the baseline series' mean, with the ratio's 95% interval as error bar, and a line at
1. The PNG goes to OUTDIR/<file>.

The output is as deterministic as matplotlib allows: Agg backend, fixed size, dpi and
font, no "Software" or date metadata. The same spec on the same matplotlib gives the same
bytes.

Exit status: 0 drawn; 2 bad usage or spec; 3 matplotlib is missing (nestlab then tries
another python3 and otherwise names the Debian package python3-matplotlib).
"""

import json
import os
import sys

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 4.8, 100
COLOURS = {
    "baseline": "#8c8c8c",
    "bare metal": "#b0b0b0",
    "nested": "#3b75af",
    "nested, mitigated": "#ef8636",
}
KIND_ORDER = ["baseline", "bare metal", "nested", "nested, mitigated"]


def draw(plt, chart, outdir):
    bars = chart["bars"]
    xs = list(range(len(bars)))
    ratios = [b["ratio"] for b in bars]
    below = [b["ratio"] - b["low"] if b.get("low") is not None else 0.0 for b in bars]
    above = [b["high"] - b["ratio"] if b.get("high") is not None else 0.0 for b in bars]
    colours = [COLOURS.get(b["kind"], "#6a6a6a") for b in bars]

    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    ax.bar(xs, ratios, color=colours, edgecolor="#333333", linewidth=0.6, width=0.65, zorder=2)
    # Error bars only where there is an interval (a baseline bar and a single run have none).
    with_ci = [i for i, b in enumerate(bars) if b.get("low") is not None and b.get("high") is not None]
    if with_ci:
        ax.errorbar([xs[i] for i in with_ci], [ratios[i] for i in with_ci],
                    yerr=[[below[i] for i in with_ci], [above[i] for i in with_ci]],
                    fmt="none", ecolor="#111111", elinewidth=1.0, capsize=4, zorder=3)
    ax.axhline(1.0, color="#c00000", linewidth=1.0, linestyle="--", zorder=4)
    top = max([r + a for r, a in zip(ratios, above)] + [1.0])
    ax.set_ylim(min(0.0, min(ratios) * 1.1), top * 1.3)
    for x, r, a in zip(xs, ratios, above):
        ax.text(x, r + a + top * 0.015, "%.3f" % r, ha="center", va="bottom", fontsize=8, zorder=5)

    labels = ["%s\n%s" % (b["environment"], b["runtime"]) for b in bars]
    many = len(bars) > 6
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=8, rotation=30 if many else 0, ha="right" if many else "center")
    ax.set_ylabel(chart["yLabel"], fontsize=8)
    ax.set_title(chart["title"], fontsize=10)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)

    present = [k for k in KIND_ORDER if any(b["kind"] == k for b in bars)]
    if present:
        import matplotlib.patches as mpatches
        handles = [mpatches.Patch(facecolor=COLOURS[k], edgecolor="#333333", label=k) for k in present]
        ax.legend(handles=handles, fontsize=8, loc="upper center", ncol=len(handles), frameon=False)

    fig.tight_layout()
    path = os.path.join(outdir, chart["file"])
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: plot.py SPEC OUTDIR\n")
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        sys.stderr.write("matplotlib is missing for %s (%s): install python3-matplotlib\n" % (sys.executable, e))
        return 3
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans",
        "svg.hashsalt": "nestlab",
        "path.simplify": True,
    })
    spec_path, outdir = argv[1], argv[2]
    try:
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
        charts = spec["charts"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write("%s: not a chart spec: %s\n" % (spec_path, e))
        return 2
    if spec.get("version") != 1:
        sys.stderr.write("%s: spec version %r; this plot.py reads 1\n" % (spec_path, spec.get("version")))
        return 2
    for chart in charts:
        print(draw(plt, chart, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
