"""The navigation of each front door, as data."""

from flask_babel import lazy_gettext as _l

NAV = {
    "applicant": [("applicant.home", _l("Meine Anträge")), ("organisation.show", _l("Meine Organisation"))],
    "staff": [("staff.home", _l("Anträge")), ("screening.queue", _l("Prüfung")),
              ("proof.queue", _l("Nachweise")), ("screening.templates", _l("Vorlagen"))],
    "committee": [("committee.home", _l("Sitzungen"))],
    "chair": [("committee.home", _l("Sitzungen"))],
    "finance": [("finance.home", _l("Übersicht")), ("finance.payout_list", _l("Auszahlungen")),
                ("finance.upload", _l("Kontoauszug einlesen")), ("finance.queue", _l("Offene Posten")),
                ("finance.donations", _l("Spenden")), ("proof.reclaim_list", _l("Rückforderungen"))],
    "admin": [("admin.home", _l("Übersicht"))],
}
