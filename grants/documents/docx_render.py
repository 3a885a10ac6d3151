"""DOCX from the same rendered letter HTML as the PDF: staff edit the wording once, in
letter_templates/, and both formats follow. Handles what letters use: the DIN 5008 head,
paragraphs with line breaks, headings, lists, tables."""

from __future__ import annotations

import io

import lxml.html
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

FONT = "Liberation Sans"


def _text_runs(par, el, bold=False):
    """Text of an element into a paragraph, <br> as line breaks, <strong>/<b>/<th> bold."""
    if el.text:
        r = par.add_run(el.text)
        r.bold = bold or None
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            par.add_run().add_break()
        else:
            _text_runs(par, child, bold or tag in ("strong", "b", "th"))
        if child.tail:
            r = par.add_run(child.tail)
            r.bold = bold or None


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


def build(html: str, title: str) -> bytes:
    root = lxml.html.document_fromstring(html)
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Mm(297), Mm(210)
    sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin = Mm(25), Mm(20), Mm(20), Mm(25)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = title
    doc.core_properties.language = "de-DE"
    doc.core_properties.author = _clean(root.findtext(".//div[@class='authority']"))

    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run("Seite ")
    _field(footer, "PAGE")
    footer.add_run(" von ")
    _field(footer, "NUMPAGES")

    head = root.find_class("head")[0]
    p = doc.add_paragraph()
    r = p.add_run(_clean(head.find_class("authority")[0].text_content()))
    r.bold, r.font.size = True, Pt(16)
    doc.add_paragraph(_clean(head.find_class("department")[0].text_content()))
    ret = doc.add_paragraph()
    rr = ret.add_run(_clean(head.find_class("return")[0].text_content()))
    rr.font.size = Pt(7)
    rec = doc.add_paragraph()
    _text_runs(rec, head.find_class("recipient")[0])
    info = head.find_class("info")[0]
    rows = info.findall(".//tr")
    table = doc.add_table(rows=0, cols=2)
    for tr in rows:
        cells = tr.findall("td")
        row = table.add_row().cells
        row[0].text, row[1].text = _clean(cells[0].text_content()), _clean(cells[1].text_content())
    doc.add_paragraph()

    body = root.body
    started = False
    for el in body:
        cls = el.get("class") or ""
        if "head" in cls.split():
            started = True
            continue
        if not started or "footer-text" in cls:
            continue
        tag = el.tag
        if tag == "p":
            par = doc.add_paragraph()
            _text_runs(par, el, bold="subject" in cls or "amount" in cls)
        elif tag == "h2":
            par = doc.add_paragraph()
            run = par.add_run(_clean(el.text_content()))
            run.bold = True
        elif tag == "ul":
            for li in el.findall("li"):
                par = doc.add_paragraph(style="List Bullet")
                _text_runs(par, li)
        elif tag == "table":
            trs = el.findall(".//tr")
            t = doc.add_table(rows=0, cols=max(len(tr) for tr in trs))
            t.style = "Table Grid"
            for tr in trs:
                cells = t.add_row().cells
                for i, cell_el in enumerate(tr):
                    cells[i].text = ""
                    _text_runs(cells[i].paragraphs[0], cell_el, bold=cell_el.tag == "th")
                    if "num" in (cell_el.get("class") or ""):
                        cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
