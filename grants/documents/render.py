"""Rendering letters from letter_templates/ to PDF/A-3b with WeasyPrint.

Application text is untrusted: Jinja autoescapes it, and WeasyPrint may fetch nothing but
files inside the template folder (no file:///etc/passwd, no network)."""

from __future__ import annotations

import atexit
import json
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from grants.domain import text
from grants.domain.money import fmt_german
from grants.paths import LETTER_TEMPLATES

TEMPLATES = LETTER_TEMPLATES


class FetchRefused(ValueError):
    pass


def _fetcher():
    """Only files below letter_templates/; everything else is refused (WeasyPrint >= 70 API)."""
    from weasyprint.urls import URLFetcher

    class TemplateOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise FetchRefused(f"refused to fetch {url[:80]}")
            path = Path(unquote(parsed.path)).resolve()
            if TEMPLATES.resolve() not in path.parents:
                raise FetchRefused(f"refused to fetch {url[:80]}")
            return super().fetch(url, headers)

    return TemplateOnlyFetcher(allowed_protocols={"file"}, allow_redirects=False)


safe_fetcher = None  # built on first use (weasyprint is imported lazily)


def fetcher():
    global safe_fetcher
    if safe_fetcher is None:
        safe_fetcher = _fetcher()
    return safe_fetcher


@lru_cache(maxsize=1)
def _printable(value):
    if isinstance(value, Markup):
        return Markup(text.printable(str(value)))
    return text.printable(value) if isinstance(value, str) else value


def _env() -> Environment:
    # finalize: every value a template prints passes text.printable, so a control character stored
    # before the input filter existed never breaks a letter (DOCX is XML) or hides in one
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, finalize=_printable)
    return env


def letterhead() -> dict:
    return tomllib.loads((TEMPLATES / "letterhead.toml").read_text(encoding="utf-8"))


def html(template: str, context: dict) -> str:
    return _env().get_template(template).render(letterhead=letterhead(), **context)


@lru_cache(maxsize=1)
def _stylesheet():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    # freed while the interpreter still stands: at its teardown WeasyPrint's __del__ finds its
    # fontconfig bindings gone and prints a TypeError traceback on every exit
    atexit.register(_stylesheet.cache_clear)
    return CSS(filename=str(TEMPLATES / "letter.css"), url_fetcher=fetcher(), font_config=fonts), fonts


def pdf(template: str, context: dict, *, data: dict | None = None, title: str = "", rendered: str | None = None) -> bytes:
    """The letter as PDF/A-3b, German as document language, `data` embedded as JSON. `rendered`:
    the template's HTML if the caller has it already (the DOCX is built from the same)."""
    from weasyprint import HTML, Attachment

    css, fonts = _stylesheet()
    doc = HTML(string=rendered or html(template, context), base_url=str(TEMPLATES) + "/", url_fetcher=fetcher())
    attachments = []
    if data is not None:
        # our fetcher, not a default one: nothing to fetch here, and building a default one (urllib
        # handlers, proxy settings from the environment) cost a millisecond a letter
        attachments.append(Attachment(string=json.dumps(data, ensure_ascii=False, indent=2, default=str),
                                      url_fetcher=fetcher(), name="data.json",
                                      description="Strukturierte Daten des Schreibens", relationship="Data"))
    # the document language comes from <html lang="de"> in the template
    return doc.write_pdf(stylesheets=[css], font_config=fonts, pdf_variant="pdf/a-3b", attachments=attachments)


def german_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def euro(amount) -> str:

    return f"{fmt_german(amount)} €"
