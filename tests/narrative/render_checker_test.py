#!/usr/bin/env python3
"""The browser check of scripts/render-narratives must be able to fail.

Renders three hand-written narratives in headless Chromium: one the check
accepts, one whose table is wider than the 700 px panel, and one that opens
with the goals instead of the pathway; the last two must fail the check.
Exit 77 (skipped) when chromium is not on PATH, as the script does.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render-narratives"
HEAD = '<div xmlns="http://www.w3.org/1999/xhtml"><h2>Draft spine care plan</h2>'
GOOD = (HEAD + "<h3>Pathway and actions now</h3><p><b>Emergency pathway.</b></p>"
        "<h3>Proposed goals</h3><table><tbody><tr><td>Pain relief</td><td>High</td></tr>"
        "</tbody></table></div>")
# A reference with no break opportunity is wider than the panel.
WIDE = (HEAD + "<h3>Pathway and actions now</h3><table><tbody><tr><td>"
        + "Observation/" + "x" * 150 + "</td></tr></tbody></table></div>")
GOALS_FIRST = (HEAD + "<h3>Proposed goals</h3><p>Pain relief</p>"
               "<h3>Pathway and actions now</h3><p>Routine pathway.</p></div>")


def check(outdir, name, div):
    path = Path(outdir) / f"{name}.xhtml"
    path.write_text(div, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(Path(outdir) / "out"), "--div", str(path),
                           "--check", "--no-screenshot"], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        rc, out = check(tmp, "good", GOOD)
        if rc == 77:
            print(out.strip())
            return 77
        if rc != 0:
            failures.append(f"a narrative that fits and opens with the pathway failed (exit {rc}):\n{out}")
        for name, div, needle in [("wide", WIDE, "wider than the 700 px panel"),
                                  ("goals-first", GOALS_FIRST, "the first section is 'Proposed goals'")]:
            rc, out = check(tmp, name, div)
            if rc != 1 or needle not in out:
                failures.append(f"{name}: want exit 1 and {needle!r}, got exit {rc}:\n{out}")
    for f in failures:
        print("FAIL " + f)
    print(f"{3 - len(failures)} of 3 checker cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
