"""Plain words for states and roles, as users read them."""

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "draft": _l("Entwurf"),
    "submitted": _l("Eingegangen"),
    "screening": _l("Wird geprüft"),
    "needs_info": _l("Angaben fehlen"),
    "ready_for_committee": _l("Bereit für den Koordinierungsstab"),
    "on_agenda": _l("Auf der Tagesordnung"),
    "approved": _l("Bewilligt"),
    "partly_approved": _l("Teilweise bewilligt"),
    "rejected": _l("Abgelehnt"),
    "deferred": _l("Vertagt"),
    "letter_sent": _l("Bescheid versandt"),
    "paid": _l("Ausgezahlt"),
    "report_due": _l("Verwendungsnachweis fällig"),
    "report_submitted": _l("Verwendungsnachweis eingereicht"),
    "closed": _l("Abgeschlossen"),
    "reclaim": _l("Rückforderung"),
    "withdrawn": _l("Zurückgezogen"),
    "ineligible": _l("Nicht förderfähig"),
}

ROLE_LABELS = {
    "applicant": _l("Antragstellende Organisation"),
    "staff": _l("Fachdienst Integration"),
    "committee": _l("Koordinierungsstab"),
    "chair": _l("Vorsitz Koordinierungsstab"),
    "finance": _l("Finanzen"),
    "admin": _l("Administration"),
}

PAYOUT_STATE_LABELS = {
    "due": _l("fällig"),
    "released": _l("freigegeben"),
    "sent": _l("an die Bank übergeben"),
    "booked": _l("gebucht"),
    "returned": _l("zurückgekommen"),
}
