"""The suite's plotting theme, atomic figure output (PNG + PDF), and the HTML claims table.

matplotlib and seaborn are imported on first use only (:func:`theme`, :func:`save`, :func:`overview`): together
they take ~1.6 s to import here, and only the figure jobs need them (``tests/test_imports.py``).
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from reprosuite import io

if TYPE_CHECKING:
    from matplotlib.figure import Figure

VERDICT_COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "inconclusive": "#ef6c00",
    "not discriminating": "#6a1b9a",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def theme() -> None:
    _pyplot()
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)


def save(fig: Figure, png: str | Path) -> None:
    """Write ``png`` and the PDF beside it, each atomically."""
    png = Path(png)
    fig.tight_layout()
    for path in (png, png.with_suffix(".pdf")):
        with io.atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150)
    _pyplot().close(fig)


def fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}"


def measured_text(row: pd.Series) -> str:
    m, lo, hi = row["measured"], row["ci_low"], row["ci_high"]
    if isinstance(lo, float) and math.isnan(lo):
        return fmt(m)
    return f"{fmt(m)} [{fmt(lo)}, {fmt(hi)}]"


def margin(value: float, rule: str) -> float:
    """Signed distance of ``value`` to the nearest bound of a pass rule, relative to that bound (> 0: inside).

    ``rule`` is the text of a :class:`reprosuite.claims.Rule` ("<= h", ">= l" or "in [l, h]").
    """
    if value is None or math.isnan(value):
        return math.nan
    nums = [float(x) for x in re.findall(r"-?(?:\d+\.?\d*(?:e-?\d+)?|inf)", rule)]
    if rule.startswith("<="):
        bounds = [(nums[0], -1)]
    elif rule.startswith(">="):
        bounds = [(nums[0], 1)]
    else:
        bounds = [(nums[0], 1), (nums[1], -1)]
    out = []
    for bound, sign in bounds:
        if math.isinf(value):
            out.append(math.copysign(math.inf, sign * value))
        else:
            out.append(sign * (value - bound) / max(abs(bound), 1e-12 if bound else 1.0))
    return min(out)


def overview(table: pd.DataFrame) -> Figure:
    """Every claim's margin to its pass threshold, with its CI, coloured by verdict."""
    plt = _pyplot()
    t = table.copy()
    t["label"] = t["study"] + " · " + t["claim"]
    lo_hi = [
        sorted((margin(r["ci_low"], r["rule"]), margin(r["ci_high"], r["rule"]))) for _, r in t.iterrows()
    ]
    t["m"] = [margin(r["measured"], r["rule"]) for _, r in t.iterrows()]
    cap = 100.0
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(t) + 1.4))
    for i, (row, (lo, hi)) in enumerate(zip(t.itertuples(), lo_hi, strict=True)):
        colour = VERDICT_COLOURS.get(row.verdict, "#555")
        m = row.m if not math.isnan(row.m) else 0.0
        if not (math.isnan(lo) or math.isnan(hi)):
            ax.plot([max(min(lo, cap), -cap), max(min(hi, cap), -cap)], [i, i], color=colour, lw=2, alpha=0.5)
        ax.plot(max(min(m, cap), -cap), i, "o", color=colour, mfc="none" if math.isnan(row.m) else colour)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_yticks(range(len(t)), t["label"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("margin to the pass threshold (relative; > 0 inside, clipped at ±100; open: not measured)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return fig


def _get(row, key: str, default=""):
    """A column of a claims table row, with a default for tables written before the column existed."""
    value = row.get(key, default)
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else value


def study_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per study: its paper, the verdicts of its empirical claims, its analytic and sanity claims, whether
    every control failed, tier, seeds and how many fields the tier changed from the paper's protocol."""
    rows = []
    for name, g in table.groupby("study", sort=False):
        kinds = g.get("kind", pd.Series(["empirical"] * len(g), index=g.index)).fillna("empirical")
        emp = g[kinds == "empirical"]
        with_control = emp[[bool(_get(r, "control")) for _, r in emp.iterrows()]]
        controls = [_get(r, "control_verdict", "none") for _, r in with_control.iterrows()]
        devs = _get(g.iloc[0], "deviations")
        rows.append(
            {
                "study": name,
                "paper": g["paper"].iloc[0],
                "paper_url": g["paper_url"].iloc[0],
                **{v: int((emp["verdict"] == v).sum()) for v in VERDICT_COLOURS},
                "empirical": len(emp),
                "analytic": int((kinds == "analytic").sum()),
                "sanity": int((kinds == "sanity").sum()),
                "controls": (
                    f"{sum(c == 'fail' for c in controls)} of {len(emp)} fail"
                    + (f", {len(emp) - len(controls)} without" if len(controls) < len(emp) else "")
                ),
                "tier": g["tier"].iloc[0],
                "seeds": int(g["n_seeds"].max()) if len(g) else 0,
                "deviations": len(devs.split("; ")) if devs else 0,
            }
        )
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame) -> str:
    """'N of M empirical claims reproduced' (sanity and analytic claims are not findings of the papers)."""
    kinds = table["kind"] if "kind" in table else pd.Series(["empirical"] * len(table))
    emp = table[kinds.fillna("empirical").to_numpy() == "empirical"]
    counts = emp["verdict"].value_counts().to_dict()
    rest = ", ".join(f"{counts[v]} {v}" for v in VERDICT_COLOURS if v != "pass" and counts.get(v))
    others = len(table) - len(emp)
    return (
        f"{counts.get('pass', 0)} of {len(emp)} empirical claims reproduced"
        + (f" ({rest})" if rest else "")
        + (f"; {others} analytic or sanity claims not counted" if others else "")
    )


def claims_table_html(table: pd.DataFrame) -> str:
    """The report's landing page as an HTML fragment with inline styles: the headline, one row per study, then
    every claim grouped by study (paper value, measured ± CI, statistic, control, verdict)."""
    cell = "border:1px solid #ccc;padding:4px 8px;vertical-align:top"
    summary = study_summary(table)
    srows = []
    for _, r in summary.iterrows():
        verdicts = ", ".join(f"{r[v]} {v}" for v in VERDICT_COLOURS if r[v])
        cells = [
            html.escape(r["study"]),
            f"<a href='{html.escape(r['paper_url'])}'>{html.escape(r['paper'])}</a>",
            f"{verdicts or '–'} (of {r['empirical']})",
            f"{r['analytic']} / {r['sanity']}",
            html.escape(r["controls"]),
            f"{html.escape(r['tier'])}, {r['seeds']}",
            str(r["deviations"]),
        ]
        srows.append("<tr>" + "".join(f"<td style='{cell}'>{c}</td>" for c in cells) + "</tr>")
    sheader = (
        "study",
        "paper",
        "empirical claims",
        "analytic / sanity",
        "controls",
        "tier, seeds",
        "deviations",
    )
    rows = []
    study = None
    for _, r in table.iterrows():
        if r["study"] != study:  # a study's header row: what its tier changed from the paper's protocol
            study = r["study"]
            devs = _get(r, "deviations")
            text = f"deviations from the paper at tier {html.escape(r['tier'])}: " + (
                html.escape(devs) if devs else "none"
            )
            rows.append(
                f"<tr class='study'><td colspan='10' style='{cell};background:#f3f3f3'>"
                f"<b>{html.escape(study)}</b> — {text}</td></tr>"
            )
        colour = VERDICT_COLOURS.get(r["verdict"], "#555")
        paper_val = r["paper_text"] or fmt(r["paper_value"])
        kind = _get(r, "kind", "empirical")
        control = _get(r, "control")
        control_text = (
            f"{html.escape(control)}: {html.escape(_get(r, 'control_verdict'))}"
            + (
                f" ({fmt(r['control_measured'])})"
                if not math.isnan(_get(r, "control_measured", math.nan))
                else ""
            )
            if control
            else "–"
        )
        near = " ≈" if bool(_get(r, "near_threshold", False)) else ""
        cells = [
            f"<b>{html.escape(r['claim'])}</b> <i>({html.escape(kind)})</i>: {html.escape(r['statement'])}",
            html.escape(str(paper_val)),
            f"{html.escape(r['metric'])} {html.escape(r['rule'])}",
            f"{html.escape(measured_text(r))} <i>{html.escape(_get(r, 'statistic', 'mean'))}</i>",
            control_text,
        ]
        row = "".join(f"<td style='{cell}'>{c}</td>" for c in cells)
        row += (
            f"<td class='verdict' style='{cell};color:white;background:{colour}'>"
            f"{html.escape(r['verdict'])}{near}</td>"
        )
        row += "".join(
            f"<td style='{cell}'>{c}</td>"
            for c in (int(r["n_seeds"]), html.escape(_get(r, "amendments")), html.escape(r["note"]))
        )
        rows.append(f"<tr>{row}</tr>")
    columns = (
        "claim",
        "paper value",
        "pass rule",
        "measured (95% CI), statistic",
        "negative control",
        "verdict",
    )
    header = "".join(f"<th style='{cell}'>{c}</th>" for c in (*columns, "seeds", "amendments", "note"))
    return (
        f"<p><b>{html.escape(headline(table))}</b> (≈: an end of the interval within 5 % of the threshold)</p>"
        f"<table id='studies' style='border-collapse:collapse;font-size:90%'><tr>"
        + "".join(f"<th style='{cell}'>{c}</th>" for c in sheader)
        + "</tr>"
        + "".join(srows)
        + "</table><br>"
        f"<table id='claims' style='border-collapse:collapse;font-size:90%'><tr>{header}</tr>"
        + "".join(rows)
        + "</table>"
    )


def claims_html(table: pd.DataFrame) -> str:
    """A self-contained HTML page: paper vs reproduced, one row per claim, verdicts coloured."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>reprosuite claims</title>"
        "<style>body{font-family:sans-serif}</style></head><body>"
        f"<h1>reprosuite: paper vs reproduced</h1>{claims_table_html(table)}</body></html>"
    )
