#!/usr/bin/env python3
"""The report of `make bench`, for whoever reads or compares bench runs.

write() puts two files in the output directory (build/bench/ for make bench):
- report.md: the machine (CPU, memory, Debian, kernel, Python, QEMU
  versions) and the run's own facts as a key/value table, then each section
  of results as a Markdown table with its notes, and the timeline below;
- timeline.svg: one pvrecover recovery above one native recovery on the
  same time axis (milliseconds from the injection of the error), one row
  per lane (L0/QMP, L1 host kernel, vhost-recover.ko, L2 ...).
print_section() prints a section as a plain-text table for the console.
`python3 tests/bench/report.py --selftest DIR` writes a report of made-up
data to DIR and checks that the SVG parses as XML.
"""

import os
import platform
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QEMU = os.path.join(TOP, "build", "qemu", "qemu-system-x86_64")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine():
    """Facts about this machine, from files any user can read."""
    cpu = _read("/proc/cpuinfo")
    models = [l.split(":", 1)[1].strip() for l in cpu.splitlines()
              if l.startswith("model name")]
    mem = [l.split()[1] for l in _read("/proc/meminfo").splitlines()
           if l.startswith("MemTotal:")]
    try:
        out = subprocess.run([QEMU, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
        qemu = out.splitlines()[0].strip() if out.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        qemu = "not built (%s)" % os.path.relpath(QEMU, TOP)
    return {
        "CPU": models[0] if models else platform.processor() or "unknown",
        "CPUs": str(len(models) or os.cpu_count() or 0),
        "memory": "%.1f GiB" % (int(mem[0]) / 2**20) if mem else "unknown",
        "Debian": _read("/etc/debian_version").strip() or "unknown",
        "machine kernel": platform.release(),
        "Python": platform.python_version(),
        "QEMU": qemu,
    }


def print_section(section):
    """Print a section as an aligned plain-text table, notes wrapped below."""
    headers, rows = section["headers"], section["rows"]
    widths = [max(len(r[i]) for r in [headers] + rows) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    print(section["title"])
    print("  " + line(headers))
    print("  " + "  ".join("-" * w for w in widths))
    for r in rows:
        print("  " + line(r))
    for n in section.get("notes", []):
        print(textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    "))
    print()


def _md_table(headers, rows, align=True):
    cell = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(cell(h) for h in headers) + " |",
           "|" + "|".join(":---" if i == 0 or not align else "---:"
                          for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return out


# SVG geometry: lane names left of X0, plot between X0 and W - 20.
W, X0, LANE, BAR, CH = 1000, 160, 22, 14, 6.2   # CH: width of a character
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#1f8a8a",
           "#9c755f", "#6b6ecf"]


def _svg(timelines):
    spans = [s for t in timelines.values() for s in t["spans"]]
    lo = min([0.0] + [s[2] for s in spans]) * 1e3
    hi = max([1e-3] + [s[3] for s in spans]) * 1e3
    step = next((s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
                 if (hi - lo) / s <= 12), 10 ** len(str(int(hi - lo))))
    lo, hi = step * (lo // step), step * -(-hi // step)
    x = lambda ms: X0 + (ms - lo) * (W - 20 - X0) / (hi - lo)  # noqa: E731
    body, y = [], 10
    for t in timelines.values():
        lanes = list(dict.fromkeys(s[0] for s in t["spans"]))
        body.append('<text x="10" y="%d" class="title">%s</text>' % (y + 14, escape(t["title"])))
        top, y = y + 24, y + 24 + LANE * len(lanes)
        for i, lane in enumerate(lanes):
            ly = top + i * LANE
            if i % 2 == 0:
                body.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f6f6f6"/>'
                            % (X0, ly, W - 20 - X0, LANE))
            body.append('<text x="%d" y="%d" class="lane">%s</text>' % (X0 - 6, ly + 15, escape(lane)))
        ms = lo
        while ms <= hi:
            body.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="%s"/>'
                        % (x(ms), top, x(ms), y + 4, "zero" if ms == 0 else "grid"))
            body.append('<text x="%.1f" y="%d" class="tick">%g ms</text>' % (x(ms), y + 16, ms))
            ms += step
        for lane, label, start, end in t["spans"]:
            i = lanes.index(lane)
            by, colour = top + i * LANE + (LANE - BAR) // 2, COLOURS[i % len(COLOURS)]
            x1, x2 = x(start * 1e3), x(end * 1e3)
            text_w = len(label) * CH
            if end > start:
                body.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"/>'
                            % (x1, by, max(x2 - x1, 1), BAR, colour))
            else:   # a point event: a diamond
                body.append('<path d="M%.1f %dl5 7l-5 7l-5 -7z" fill="%s"/>' % (x1, by, colour))
                x2 += 5
            if end > start and text_w + 6 <= x2 - x1:
                pos = 'x="%.1f" class="in"' % (x1 + 3)
            elif x2 + 4 + text_w <= W:
                pos = 'x="%.1f" class="out"' % (x2 + 4)
            else:
                pos = 'x="%.1f" class="out" text-anchor="end"' % (x1 - (4 if end > start else 9))
            body.append('<text %s y="%d">%s</text>' % (pos, by + 11, escape(label)))
        y += 30
    style = ("text{font-family:sans-serif;font-size:11px}.title{font-size:14px;font-weight:bold}"
             ".lane{text-anchor:end}.tick{text-anchor:middle;fill:#555;font-size:10px}"
             ".in{fill:#fff}.out{fill:#222}.grid{stroke:#ddd}"
             ".zero{stroke:#d33;stroke-dasharray:4 3}")
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">\n'
            '<style>%s</style>\n<rect width="100%%" height="100%%" fill="#fff"/>\n%s\n</svg>\n'
            % (W, y, W, y, style, "\n".join(body)))


def write(outdir, meta, sections, timelines):
    """Write outdir/report.md and outdir/timeline.svg; return their paths."""
    os.makedirs(outdir, exist_ok=True)
    md_path, svg_path = os.path.join(outdir, "report.md"), os.path.join(outdir, "timeline.svg")
    facts = dict(machine())
    facts.update(meta)
    md = ["# pvrecover bench", ""] + _md_table(["", ""], list(facts.items()), False)
    for s in sections:
        md += ["", "## " + s["title"], ""] + _md_table(s["headers"], s["rows"])
        if s.get("notes"):
            md += [""] + ["- " + n for n in s["notes"]]
    if timelines:
        md += ["", "## Timeline", "",
               "One recovery of each kind on the same time axis, in milliseconds "
               "from the injection of the error (dashed red line).", "",
               "![timeline](timeline.svg)"]
    with open(md_path, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(svg_path, "w") as f:
        f.write(_svg(timelines))
    return md_path, svg_path


def selftest(outdir):
    sections = [{"title": "Protocol and recoveries (TCG, medians)",
                 "headers": ["measure", "ms", "x baseline"],
                 "rows": [["notice round trip | no recovery", "1.92", "1.0x"],
                          ["one nvme recovery", "38.40", "20.0x"]],
                 "notes": ["Absolute times under TCG mean little; compare the ratios. " * 3]}]
    timelines = {
        "pvrecover": {"title": "pvrecover: vhost-recover.ko, L2 keeps running", "spans": [
            ("L0/QMP", "inject fatal AER <&>", 0.0, 0.0),
            ("L1 host kernel", "AER recovery, link reset", 0.002, 0.091),
            ("vhost-recover.ko", "error-detected sent", 0.004, 0.004),
            ("vhost-recover.ko", "reset-done sent", 0.093, 0.093),
            ("L2 pvrecover", "reset_prepare", 0.006, 0.012),
            ("L2 pvrecover", "reset_done", 0.095, 0.131),
            ("L2 reader", "I/O resumes", 0.140, 0.140)]},
        "native": {"title": "native: same error on bare L1, nvme bound in L1", "spans": [
            ("L0/QMP", "inject fatal AER", 0.0, 0.0),
            ("L1 host kernel", "AER recovery", 0.001, 0.085),
            ("L1 nvme driver", "reset_prepare .. reset_done", 0.003, 0.112),
            ("L1 reader", "I/O resumes", 0.118, 0.118)]},
    }
    for s in sections:
        print_section(s)
    meta = {"date": "2000-01-01", "guest kernel (L2)": "6.1.0-57-amd64", "rounds": "5",
            "note": "made-up data (self-test)"}
    paths = write(outdir, meta, sections, timelines)
    ET.parse(paths[1])   # raises if the SVG is not well-formed XML
    return paths


def main(argv):
    if len(argv) != 3 or argv[1] != "--selftest":
        sys.exit("usage: %s --selftest DIR" % argv[0])
    for p in selftest(argv[2]):
        print(p)


if __name__ == "__main__":
    main(sys.argv)
