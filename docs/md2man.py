#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Makes the man pages from docs/REFERENCE.md, so the reference and the pages cannot drift.

Each top-level heading `# NAME(SECTION) ...` of REFERENCE.md starts a page, which runs to the
next one; `##` headings are sections (.SH), `###` subsections (.SS). The text may use what
REFERENCE.md uses and nothing more: paragraphs, `- ` lists, pipe tables, fenced code blocks,
`code`, *emphasis*, **strong** and [links](...) (their text is kept, never the target).
Anything else is an error, so the pages never show markdown that was not converted.

Usage: md2man.py REFERENCE.md OUTDIR VERSION
"""
import os
import re
import sys
import time

PAGE = re.compile(r"^# ([a-z][a-z.-]*)\(([1-8])\)")
INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\([^)]*\)")


def escape(text):
    """Text as roff prints it literally (no requests, escapes or hyphenation surprises)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text.replace("'", "\\(aq").replace("`", "\\(ga")


def inline(text, where):
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos : m.start()]))
        code, strong, emph, link = m.groups()
        if code is not None:
            # A long path may break after a slash (roff's \: breaks and prints nothing).
            out.append("\\fB" + escape(code).replace("/", "/\\:") + "\\fR")
        elif strong is not None:
            out.append("\\fB" + escape(strong) + "\\fR")
        elif emph is not None:
            out.append("\\fI" + escape(emph) + "\\fR")
        else:
            out.append(inline(link, where))
        pos = m.end()
    rest = text[pos:]
    if "`" in rest or "**" in rest or "](" in rest:
        sys.exit(f"{where}: markup md2man.py does not convert: {rest!r}")
    out.append(escape(rest))
    return "".join(out)


def line_safe(roff):
    """A line of text never starts with a control character."""
    return "\\&" + roff if roff[:1] in (".", "'") else roff


def table(rows, where):
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    if len(cells) < 2 or not all(set(c) <= set("-: ") for c in cells[1]):
        sys.exit(f"{where}: a table needs a header row and a |---| row")
    width = len(cells[0])
    out = [".TS", "allbox tab(\t);", " ".join(["lb"] * width), " ".join(["lx"] * width) + "."]
    for i, row in enumerate([cells[0]] + cells[2:]):
        if len(row) != width:
            sys.exit(f"{where}: a table row with {len(row)} cells, not {width}")
        out.append("\t".join("T{\n" + line_safe(inline(c, where)) + "\nT}" for c in row))
    out.append(".TE")
    return out


def convert(name, section, lines, version, date, first_line):
    out = [
        f'.\\" Made by docs/md2man.py from docs/REFERENCE.md: edit that, not this.',
        f'.TH {escape(name.upper())} {section} "{date}" "daxpolicy {version}" "daxpolicy"',
        # Ragged right, unhyphenated: long literals (paths, keys) in narrow cells cannot be
        # justified, and a hyphen inside a name would read as part of it.
        ".ad l",
        ".nh",
    ]
    i = 0
    while i < len(lines):
        where = f"REFERENCE.md:{first_line + i}"
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("### "):
            out.append(".SS " + inline(line[4:], where))
            i += 1
        elif line.startswith("## "):
            out.append(".SH " + inline(line[3:].upper(), where))
            i += 1
        elif line.startswith("#"):
            sys.exit(f"{where}: only ## and ### headings may be inside a page")
        elif line.startswith("```"):
            i += 1
            out += [".PP", ".RS 4", ".nf"]
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(escape(lines[i])))
                i += 1
            out += [".fi", ".RE"]
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += table(rows, where)
        elif line.startswith("- "):
            while i < len(lines) and lines[i].startswith("- "):
                item = [lines[i][2:]]
                i += 1
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                    item.append(lines[i].strip())
                    i += 1
                out += [".IP \\(bu 2", line_safe(inline(" ".join(item), where))]
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"#|```|\||- ", lines[i]):
                para.append(lines[i].strip())
                i += 1
            out += [".PP", line_safe(inline(" ".join(para), where))]
    return "\n".join(paragraphs_after_headings_dropped(out)) + "\n"


def paragraphs_after_headings_dropped(out):
    """A heading starts a paragraph itself: a .PP right after one is noise to man(7)."""
    return [l for i, l in enumerate(out) if not (l == ".PP" and out[i - 1][:4] in (".SH ", ".SS "))]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: md2man.py REFERENCE.md OUTDIR VERSION")
    source, outdir, version = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        lines = f.read().splitlines()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", os.path.getmtime(source)))
    date = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    starts = [i for i, line in enumerate(lines) if PAGE.match(line)]
    if not starts:
        sys.exit(f"{source}: no page heading such as '# daxpolicy(1)'")
    os.makedirs(outdir, exist_ok=True)
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        name, section = PAGE.match(lines[start]).groups()
        page = convert(name, section, lines[start + 1 : end], version, date, start + 2)
        with open(os.path.join(outdir, f"{name}.{section}"), "w", encoding="utf-8") as f:
            f.write(page)


if __name__ == "__main__":
    main()
