"""The ledger for the city's accounting: CSV (German conventions) and XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from grants.domain import text
from grants.services.fund import SIGN, ledger_rows

HEADER = ["Nr.", "Buchungsdatum", "Art", "Aktenzeichen", "Betrag (EUR)", "Wirkung auf Konto (EUR)",
          "Spender/Gegenpartei", "Zweck", "storniert Nr."]
KIND_DE = {"donation": "Spende", "commitment": "Bindung (Bewilligung)", "commitment_release": "Freigabe Bindung",
           "payout": "Auszahlung", "payout_return": "Rückläufer Auszahlung", "refund": "Rückzahlung",
           "reclaim": "Rückforderung (Soll)", "reversal": "Storno"}


def _text(value: str) -> str:
    """Free text from outside (donor names, remittance) must not become a spreadsheet formula, nor
    carry a control character (XLSX refuses them)."""
    value = text.printable(value or "")
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _rows(db: Session, fund_id: int):
    for entry, file_number in ledger_rows(db, fund_id):
        yield [entry.id, entry.booked_on, KIND_DE.get(entry.kind, entry.kind), file_number or "",
               entry.amount, entry.amount * SIGN.get(entry.kind, 0), _text(entry.donor), _text(entry.purpose),
               entry.reverses_id or ""]


def _de_amount(value) -> str:
    return f"{value:.2f}".replace(".", ",")


def to_csv(db: Session, fund_id: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(HEADER)
    for r in _rows(db, fund_id):
        r[1] = r[1].strftime("%d.%m.%Y")
        r[4], r[5] = _de_amount(r[4]), _de_amount(r[5])
        w.writerow(r)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")   # BOM: Excel reads UTF-8 correctly


def to_xlsx(db: Session, fund_id: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Hauptbuch"
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in _rows(db, fund_id):
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        row[1].number_format = "DD.MM.YYYY"
        row[4].number_format = row[5].number_format = "#,##0.00"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
