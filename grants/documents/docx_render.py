"""DOCX from the same rendered letter HTML as the PDF: staff edit the wording once, in
letter_templates/, and both formats follow. Handles what letters use: the DIN 5008 head,
paragraphs with line breaks, headings, lists, tables.

python-docx makes the package (page, styles, numbered footer) once per process. Each letter is
that package with its own body and title: the body written straight into document.xml with lxml,
element for element what python-docx's add_paragraph/add_run/add_table would write, the other
parts copied as they are. Opening and saving the package through python-docx for every letter, and
its generic child-order bookkeeping, cost as much as 20 % of the letter's PDF."""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache

import lxml.html
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt
from lxml import etree

FONT = "Liberation Sans"


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC = "{http://purl.org/dc/elements/1.1/}"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
PAGE_WIDTH, MARGINS = Mm(210), (Mm(25), Mm(20), Mm(20), Mm(25))   # left, right, top, bottom
BLOCK_WIDTH = PAGE_WIDTH - MARGINS[0] - MARGINS[1]
_BREAKS = re.compile(r"([\t\r\n])")


def _sub(parent, tag: str, **attrs: str):
    el = etree.SubElement(parent, W + tag)
    for k, v in attrs.items():
        el.set(W + k, v)
    return el


def _run(par, text: str | None = None, *, bold: bool = False, size: int | None = None, props: bool = True):
    """A w:r as python-docx's Run.text writes it: a tab or a line break in the text becomes its own
    element. `props`: python-docx leaves an empty w:rPr where bold was switched off."""
    r = _sub(par, "r")
    if props:
        rpr = _sub(r, "rPr")
        if bold:
            _sub(rpr, "b")
        if size:
            _sub(rpr, "sz", val=str(size))
    for piece in _BREAKS.split(text or ""):
        if piece == "\t":
            _sub(r, "tab")
        elif piece in ("\r", "\n"):
            _sub(r, "br")
        elif piece:
            t = _sub(r, "t")
            t.text = piece
            if len(piece.strip()) < len(piece):
                t.set(XML_SPACE, "preserve")
    return r


def _text_runs(par, el, bold=False):
    """Text of an element into a paragraph, <br> as line breaks, <strong>/<b>/<th> bold."""
    if el.text:
        _run(par, el.text, bold=bold)
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else None
        if tag == "br":
            _sub(_sub(par, "r"), "br")
        elif tag is not None:            # a comment's text is no part of the letter
            _text_runs(par, child, bold or tag in ("strong", "b", "th"))
        if child.tail:
            _run(par, child.tail, bold=bold)


def _paragraph(body, style: str | None = None, align: str | None = None):
    p = _sub(body, "p")
    if style or align:
        ppr = _sub(p, "pPr")
        if style:
            _sub(ppr, "pStyle", val=style)
        if align:
            _sub(ppr, "jc", val=align)
    return p


def _table(body, cols: int, style: str | None = None):
    """python-docx's add_table(rows=0, cols): the text width shared evenly."""
    tbl = _sub(body, "tbl")
    pr = _sub(tbl, "tblPr")
    if style:
        _sub(pr, "tblStyle", val=style)
    _sub(pr, "tblW", type="auto", w="0")
    _sub(pr, "tblLook", firstColumn="1", firstRow="1", lastColumn="0", lastRow="0", noHBand="0", noVBand="1",
         val="04A0")
    width = str(Emu(BLOCK_WIDTH // cols).twips)
    grid = _sub(tbl, "tblGrid")
    for _ in range(cols):
        _sub(grid, "gridCol", w=width)
    return tbl, width, cols


def _row(table) -> list:
    """A row's cells, each with its width and no paragraph yet."""
    tbl, width, cols = table
    tr = _sub(tbl, "tr")
    cells = []
    for _ in range(cols):
        tc = _sub(tr, "tc")
        _sub(_sub(tc, "tcPr"), "tcW", type="dxa", w=width)
        cells.append(tc)
    return cells


def _field(par, code: str) -> None:
    run = par.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == code:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {code} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# Styles the letters use, with what they are based on or linked to; python-docx's default template
# carries 164 styles, 267 latent styles and a Word 2010 copy of them all (800 kB of XML that every
# letter parsed and wrote again, 80 % of the DOCX's cost).
KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "ListBullet", "TableGrid"}


def _prune(doc) -> None:
    part = doc.part
    for rId, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rId)
    pkg = part.package
    for rId, rel in list(pkg.rels.items()):
        if rel.reltype == RT.THUMBNAIL:            # python-docx's logo, not the letter's first page
            del pkg.rels[rId]
    styles = doc.styles.element
    by_id = {el.get(qn("w:styleId")): el for el in styles.findall(qn("w:style"))}
    # numbering.xml names list styles too; a dangling reference is what Word calls a damaged file
    numbered = doc.part.numbering_part.element.xpath(".//w:pStyle/@w:val")
    keep, todo = set(), [*KEEP_STYLES, *numbered]
    while todo:
        sid = todo.pop()
        if sid in keep or sid not in by_id:
            continue
        keep.add(sid)
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = by_id[sid].find(qn(tag))
            if ref is not None:
                todo.append(ref.get(qn("w:val")))
    for sid, el in by_id.items():
        if sid not in keep:
            styles.remove(el)
    for el in styles.findall(qn("w:latentStyles")):
        styles.remove(el)


@lru_cache(maxsize=1)
def _template() -> bytes:
    """What every letter shares (page, fonts, styles, numbered footer), built once per process."""
    doc = Document()
    _prune(doc)
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Mm(297), PAGE_WIDTH
    sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin = MARGINS
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    doc.core_properties.language = "de-DE"
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run("Seite ")
    _field(footer, "PAGE")
    footer.add_run(" von ")
    _field(footer, "NUMPAGES")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=1)
def _members() -> dict[str, bytes]:
    """The template package's files, in python-docx's order."""
    with zipfile.ZipFile(io.BytesIO(_template())) as z:
        return {name: z.read(name) for name in z.namelist()}


def build(html: str, title: str) -> bytes:
    root = lxml.html.document_fromstring(html)
    members = _members()
    document = etree.fromstring(members["word/document.xml"])
    core = etree.fromstring(members["docProps/core.xml"])
    core.find(DC + "title").text = title
    core.find(DC + "creator").text = _clean(root.findtext(".//div[@class='authority']"))
    body = document.find(W + "body")
    sect = body[-1]                      # the section's properties stay the body's last child
    body.remove(sect)

    head = root.find_class("head")[0]
    _run(_paragraph(body), _clean(head.find_class("authority")[0].text_content()), bold=True, size=32)
    department = _clean(head.find_class("department")[0].text_content())
    dep = _paragraph(body)
    if department:
        _run(dep, department, props=False)
    _run(_paragraph(body), _clean(head.find_class("return")[0].text_content()), size=14)
    _text_runs(_paragraph(body), head.find_class("recipient")[0])
    info = _table(body, 2)
    for tr in head.find_class("info")[0].findall(".//tr"):
        tds = tr.findall("td")
        for i, tc in enumerate(_row(info)):
            _run(_sub(tc, "p"), _clean(tds[i].text_content()) if i < len(tds) else "", props=False)
    _paragraph(body)

    started = False
    for el in root.body:
        cls = el.get("class") or ""
        if "head" in cls.split():
            started = True
            continue
        if not started or "footer-text" in cls:
            continue
        tag = el.tag
        if tag == "p":
            _text_runs(_paragraph(body), el, bold="subject" in cls or "amount" in cls)
        elif tag == "h2":
            _run(_paragraph(body), _clean(el.text_content()), bold=True)
        elif tag == "ul":
            for li in el.findall("li"):
                _text_runs(_paragraph(body, style="ListBullet"), li)
        elif tag == "table":
            trs = el.findall(".//tr")
            if not trs:
                continue
            t = _table(body, max(len(tr) for tr in trs), style="TableGrid")
            for tr in trs:
                tcs = _row(t)
                for tc, cell_el in zip(tcs, tr, strict=False):  # a short row leaves cells empty
                    par = _paragraph(tc, align="right" if "num" in (cell_el.get("class") or "") else None)
                    _sub(par, "r")       # python-docx's cell.text = "" leaves an empty run
                    _text_runs(par, cell_el, bold=cell_el.tag == "th")
                for tc in tcs[len(tr):]:
                    _sub(tc, "p")
    body.append(sect)
    own = {"word/document.xml": document, "docProps/core.xml": core}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if name in own:              # serialised as python-docx does
                data = etree.tostring(own[name], encoding="UTF-8", standalone=True)
            z.writestr(name, data)
    return buf.getvalue()
