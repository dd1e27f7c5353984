"""Spike for issue 16: render one synthetic A4 page with each PDF engine and time it.

The page is what a parent report's page holds: a heading, invented running text, one of the
app's own SVG charts (:func:`empowered.charts.line_chart`) and a real table of its data.
No pupil data: every word and number is invented here.

Each engine runs in its own child process so that "cold" (import + first render, what a CLI
call pays) and peak memory (``ru_maxrss`` of that child) are its own; "warm" is the median of
the next renders in the same process (what a running web app pays). Engines whose package is
not installed are reported as missing, not failed.

    PYTHONPATH=src python benchmarks/pdf_engine.py [--out DIR] [--runs N] [--engine NAME]

The optional packages are not project dependencies yet (see docs/design/pdf-engine.md for
the pins): weasyprint, reportlab + svglib, typst, textstat; Chromium uses playwright (a test
dependency) and Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from empowered.charts import Chart

ENGINES = ("weasyprint", "chromium", "reportlab", "typst")
NEEDS = {
    "weasyprint": "weasyprint",
    "chromium": "playwright",
    "reportlab": "svglib",
    "typst": "typst",
}
CHROMIUM = os.environ.get("EMPOWERED_CHROMIUM", "/usr/bin/chromium")
TITLE = "How Sam is getting on: autumn term"
PARAGRAPH = (
    "Sam has settled well this term. Sam enjoys drawing and is proud of the comic strip "
    "the class made together. We have been working on reading every day in small groups. "
    "The chart shows how many words Sam read correctly in one minute each week. It has "
    "gone up from 40 to 58. Next term we will keep the daily group and add a short "
    "game at home. Please talk to Ms Green, the teacher who leads on special needs, if "
    "you have any questions."
)
TEMPLATE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; line-height: 1.45; }
h1 { font-size: 18pt; } figure { max-width: 120mm; margin: 0; }
table { border-collapse: collapse; } th, td { border: 1px solid #767676; padding: 2pt 6pt; }
</style></head>
<body><h1>{{ title }}</h1>{% for _ in range(sections) %}<section><p>{{ paragraph }}</p>
<h2>Reading each week</h2>
<figure>{{ svg | safe }}<figcaption>{{ caption }}</figcaption></figure>
<table><caption>{{ caption }}: the data</caption>
<thead><tr>{% for c in columns %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></section>{% endfor %}</body></html>"""
SECTIONS = [1]  # how many times the page body repeats (about one A4 page each); set by --sections


def chart() -> Chart:
    from empowered.charts import line_chart

    start = date(2026, 9, 7)
    points = [(start + timedelta(weeks=i), 40.0 + 2 * i) for i in range(10)]
    return line_chart("Words read correctly in one minute", {"words": points}, y_label="words")


def page_html() -> str:
    import jinja2

    c = chart()
    env = jinja2.Environment(autoescape=True)
    return env.from_string(TEMPLATE).render(
        title=TITLE,
        paragraph=PARAGRAPH,
        svg=c.svg,
        caption=c.title,
        columns=c.table_columns,
        rows=c.table_rows,
        sections=SECTIONS[0],
    )


def render_weasyprint() -> Callable[[Path], None]:
    import weasyprint

    def render(out: Path) -> None:
        html = weasyprint.HTML(string=page_html())
        html.write_pdf(out, pdf_variant="pdf/ua-1", pdf_tags=True)

    return render


def render_chromium() -> Callable[[Path], None]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
    )

    def render(out: Path) -> None:
        page = browser.new_page()
        page.set_content(page_html())
        page.pdf(path=str(out), format="A4", tagged=True, outline=True)
        page.close()

    return render


def render_reportlab() -> Callable[[Path], None]:
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
    from svglib.svglib import svg2rlg

    styles = getSampleStyleSheet()

    def drawing(svg: str) -> Any:
        d = svg2rlg(io.BytesIO(svg.encode()))
        scale = 300 / d.width
        d.scale(scale, scale)
        d.width, d.height = d.width * scale, d.height * scale
        return d

    def render(out: Path) -> None:
        c = chart()
        data = [list(c.table_columns), *map(list, c.table_rows)]
        grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)])
        story = [Paragraph(TITLE, styles["Title"])]
        for _ in range(SECTIONS[0]):
            figure = drawing(c.svg)  # a flowable is used once
            story += [Paragraph(PARAGRAPH, styles["BodyText"]), figure, Table(data, style=grid)]
        SimpleDocTemplate(str(out), pagesize=A4, title=TITLE).build(story)

    return render


def render_typst() -> Callable[[Path], None]:
    import typst

    work = Path(tempfile.mkdtemp(prefix="pdf-engine-typst-"))

    def render(out: Path) -> None:
        c = chart()
        (work / "chart.svg").write_text(c.svg)
        cols = c.table_columns
        cells = ", ".join(f"[{v}]" for r in c.table_rows for v in r)
        head = ", ".join(f"[*{h}*]" for h in cols)
        section = (
            f"{PARAGRAPH}\n== Reading each week\n"
            f'#figure(image("chart.svg", width: 120mm, alt: "{c.title}"),'
            f" caption: [{c.title}])\n"
            f"#table(columns: {len(cols)}, table.header({head}), {cells})\n"
        )
        source = (
            '#set page(paper: "a4", margin: (x: 16mm, y: 18mm))\n'
            '#set text(font: "DejaVu Sans", size: 11pt, lang: "en", region: "gb")\n'
            f'#set document(title: "{TITLE}")\n'
            f"= {TITLE}\n" + section * SECTIONS[0]
        )
        (work / "page.typ").write_text(source)
        pdf = typst.compile(str(work / "page.typ"), pdf_standards="ua-1")
        out.write_bytes(pdf)

    return render


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them, so a
    sum over Chromium's processes does not count its shared libraries once per process."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(x.split()[1]) for x in lines if x.startswith("Pss:")), 0)


def tree_mb() -> float:
    """Memory (PSS) of this process and all its descendants now (Chromium's renderer and
    browser processes are children: ru_maxrss of this process alone misses them)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
    mine, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in mine} - mine
        mine |= more
        grew = bool(more)
    return sum(pss_kb(pid) for pid in mine) / 1024


def is_tagged(pdf: Path) -> str:
    """'yes' when the PDF has a structure tree and says it is marked (pypdf, if present)."""
    if importlib.util.find_spec("pypdf") is None:
        return "?"
    import pypdf

    root = pypdf.PdfReader(pdf).trailer["/Root"]
    marked = root.get("/MarkInfo", {}).get("/Marked", False)
    return "yes" if "/StructTreeRoot" in root and marked else "no"


def run_one(engine: str, out_dir: Path, runs: int) -> dict[str, object]:
    """In this (child) process: import the engine, render `runs` times, report figures."""
    t0 = time.perf_counter()
    render = globals()[f"render_{engine}"]()
    out = out_dir / f"{engine}.pdf"
    render(out)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        render(out)
        warm.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tree = tree_mb()  # after the renders, before the engine is shut down
    return {
        "engine": engine,
        "cold_s": round(cold, 3),
        "warm_s": round(statistics.median(warm), 3),
        "mem_mb": round(max(peak, tree)),
        "bytes": out.stat().st_size,
        "pages": len(__import__("pypdf").PdfReader(out).pages) if is_tagged(out) != "?" else 0,
        "tagged": is_tagged(out),
        "pdf": str(out),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "pdf-engine")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=ENGINES)
    parser.add_argument("--sections", type=int, default=1, help="repeat the body N times")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    SECTIONS[0] = args.sections
    if args.child:
        print(json.dumps(run_one(args.engine, args.out, args.runs)))
        return
    head = f"{'engine':<11} {'cold s':>7} {'warm s':>7} {'mem MB':>8} {'bytes':>8}"
    print(f"{head} {'pages':>5} tagged")
    for engine in [args.engine] if args.engine else ENGINES:
        if importlib.util.find_spec(NEEDS[engine]) is None:
            print(f"{engine:<11} not installed ({NEEDS[engine]})")
            continue
        cmd = [sys.executable, __file__, "--child", "--engine", engine]
        cmd += ["--out", str(args.out), "--runs", str(args.runs), "--sections", str(args.sections)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{engine:<11} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout)
        print(
            f"{engine:<11} {r['cold_s']:>7} {r['warm_s']:>7} {r['mem_mb']:>8}"
            f" {r['bytes']:>8} {r['pages']:>5} {r['tagged']:<6} {r['pdf']}"
        )


if __name__ == "__main__":
    main()
