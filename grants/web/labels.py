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

JOB_STATE_LABELS = {
    "queued": _l("wartend"),
    "running": _l("laufend"),
    "done": _l("erledigt"),
    "failed": _l("fehlgeschlagen"),
}

# reasons a grant cannot be paid yet (grants.services.payouts), shown translated on the payouts page
PAYEE_GAPS = (_l("Bestätigung der geänderten Bankverbindung durch die Finanzen"),)

# what each background job does, for the admin page (names as in grants.flows.registry)
JOB_FLOW_LABELS = {
    "deliver_message": _l("E-Mail zustellen"),
    "reconcile_statement": _l("Kontoauszug einlesen und abgleichen"),
    "send_receipt": _l("Eingangsbestätigung senden"),
    "screening": _l("Antrag vorprüfen"),
    "noop": _l("Probeauftrag"),
    "decide_session": _l("Beschlüsse einer Sitzung vollziehen"),
    "prepare_session": _l("Sitzung vorbereiten und einladen"),
    "decision_letter": _l("Bescheid erstellen"),
    "decision_letters": _l("Bescheide einer Sitzung erstellen"),
    "reclaim_letter": _l("Rückforderungsbescheid erstellen"),
    "reminder_letter": _l("Erinnerung erstellen"),
    "reminders": _l("Fristen prüfen und erinnern"),
    "retention": _l("Aufbewahrungsfristen anwenden"),
}

PAYOUT_STATE_LABELS = {
    "due": _l("fällig"),
    "released": _l("freigegeben"),
    "sent": _l("an die Bank übergeben"),
    "booked": _l("gebucht"),
    "returned": _l("zurückgekommen"),
}

# What each state means for the applicant, in plain words.
STATE_HELP = {
    "draft": _l("Der Antrag ist noch nicht abgeschickt. Sie können ihn jederzeit weiter ausfüllen."),
    "submitted": _l("Ihr Antrag ist eingegangen. Die Prüfung beginnt gleich."),
    "screening": _l("Der Fachdienst Integration prüft Ihren Antrag."),
    "needs_info": _l("Es fehlen noch Angaben. Bitte lesen Sie die Nachricht unten und ergänzen Sie den Antrag."),
    "ready_for_committee": _l("Die Prüfung ist abgeschlossen. Der Koordinierungsstab entscheidet in einer seiner "
                              "nächsten Sitzungen."),
    "on_agenda": _l("Ihr Antrag steht auf der Tagesordnung der nächsten Sitzung des Koordinierungsstabs."),
    "approved": _l("Der Koordinierungsstab hat Ihren Antrag bewilligt. Der Bescheid kommt in Kürze."),
    "partly_approved": _l("Der Koordinierungsstab hat einen Teil bewilligt. Der Bescheid kommt in Kürze."),
    "rejected": _l("Der Koordinierungsstab hat den Antrag abgelehnt. Die Gründe stehen im Bescheid."),
    "deferred": _l("Die Entscheidung ist auf die nächste Sitzung vertagt."),
    "letter_sent": _l("Der Bescheid ist verschickt. Die Auszahlung wird vorbereitet."),
    "paid": _l("Der Zuschuss ist ausgezahlt. Viel Erfolg mit Ihrem Projekt!"),
    "report_due": _l("Bitte reichen Sie den Verwendungsnachweis bis zur genannten Frist ein."),
    "report_submitted": _l("Ihr Verwendungsnachweis ist eingegangen und wird geprüft."),
    "closed": _l("Der Vorgang ist abgeschlossen. Danke!"),
    "reclaim": _l("Ein Teil des Zuschusses wird zurückgefordert. Die Einzelheiten stehen im Bescheid."),
    "withdrawn": _l("Sie haben den Antrag zurückgezogen."),
    "ineligible": _l("Der Antrag kann nicht gefördert werden. Die Gründe haben wir Ihnen mitgeteilt."),
}

LETTER_LABELS = {
    "receipt": _l("Eingangsbestätigung"),
    "approval": _l("Zuwendungsbescheid"),
    "partial_approval": _l("Zuwendungsbescheid (teilweise Bewilligung)"),
    "rejection": _l("Ablehnungsbescheid"),
    "request_info": _l("Nachforderung von Unterlagen"),
    "reminder": _l("Erinnerung"),
    "reclaim": _l("Rückforderungsbescheid"),
}
