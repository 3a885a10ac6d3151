"""What the city writes for itself never reaches the applicant: the staff's recommendation for
the committee and the proof check's note stay out of the applicant's history (German and English)
and out of the organisation's data export; what is written for the applicant is shown."""

import io
import zipfile

from grants.services import proof_check
from tests.factories import actor_for
from tests.flows.test_screening_flow import _ready_org, _submit
from tests.services.test_proof_of_use import _fill, _paid_case, _receipts
from tests.web.helpers import csrf, login


def _applicant_sees(app, case_id):
    client = app.test_client()
    login(client, "applicant_a@test.example")
    pages = [client.get(f"/antrag/{case_id}").get_data(as_text=True),
             client.get(f"/antrag/{case_id}?lang=en").get_data(as_text=True)]
    client.get("/?lang=de")
    export = zipfile.ZipFile(io.BytesIO(client.get("/antrag/organisation/daten.zip").data))
    return " ".join(pages) + " ".join(export.read(n).decode(errors="ignore") for n in export.namelist()
                                      if n.endswith(".json"))


def test_the_recommendation_for_the_committee_stays_inside(app, world, db):
    from grants.services import screening

    _ready_org(db, world)
    case_id = _submit(db, world, title="Nachbarschaftscafé")
    with db.session() as s:
        screening.screen_case(s, case_id)
    staff = app.test_client()
    login(staff, "staff@test.example")
    page = staff.get(f"/fachdienst/antrag/{case_id}").get_data(as_text=True)
    staff.post(f"/fachdienst/antrag/{case_id}/entscheidung", data={
        "csrf_token": csrf(page), "action": "mark_ready", "proposed": "800,00",
        "reason": "Intern: Honorar etwas hoch, Vorstand kennt den Stadtrat."})
    seen = _applicant_sees(app, case_id)
    assert "Honorar etwas hoch" not in seen and "Stadtrat" not in seen
    assert "Nachbarschaftscafé" in seen                       # the page itself is there


def test_the_proof_checks_note_stays_inside_and_a_question_goes_out(app, world, db, tmp_path):
    from grants.services import proofs

    case_id = _paid_case(db, world, tmp_path)
    _fill(db, world, case_id, honorar="1000.00", miete="500.00", receipts=_receipts("1000.00", "500.00"))
    applicant, staff = actor_for(db, world.users["applicant_a"]), actor_for(db, world.users["staff"])
    with db.session() as s:
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        proof_check.return_to_applicant(s, staff, case_id, "Bitte die Teilnehmerliste ergänzen.")
    _fill(db, world, case_id, honorar="1000.00", miete="500.00", receipts=_receipts("1000.00", "500.00"))
    with db.session() as s:
        proofs.submit(s, applicant, case_id)
    with db.session() as s:
        proof_check.accept(s, staff, case_id, note="Vermerk zur Prüfung (intern): Belege nur stichprobenartig.")
    seen = _applicant_sees(app, case_id)
    assert "stichprobenartig" not in seen and "Vermerk zur Prüfung" not in seen
    assert "Bitte die Teilnehmerliste ergänzen." in seen      # what was written for them is shown
