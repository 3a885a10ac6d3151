"""Demo data: a living system for a newcomer, made by living through its past. Nine months ago the
city set up the program and the organisations registered; donations came in over the fund's bank
account; two sittings of the Koordinierungsstab decided (about five months and ten days ago), the
grants were paid and booked on the bank statement, proofs of use came in, one was accepted and one
led to a reclaim; the next sitting has its agenda. Every step is the service a user's click calls,
on the application's clock set to that day, and the flows it starts run on that day too; so there
are cases in every state, each with its letters, minutes, payouts and bank entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select

from grants import clock
from grants.config import Config
from grants.db import Database
from grants.models import AuditEvent, FlowJob, Program
from grants.services import audit
from grants.services import demo_sittings as sit
from grants.services import demo_steps as do
from grants.services.actor import Actor
from grants.services.demo_sittings import Item
from grants.services.demo_statements import Entry, Transfer, transfers_in
from grants.services.demo_steps import Project
from grants.services.demo_world import ORGS, PROGRAM_CODE, World, created, register, staff_program_committee
from grants.services.payouts import next_business_day

D = Decimal
DONE = "demo_loaded"
GIFT = "Spende Osnabrueck hilft"

P = {p.title: p for p in [
    Project("schinkel", "Interkulturelles Nachbarschaftsfest am Schinkelbad", "Schinkel", "2400.00"),   # draft
    Project("marien", "Sprachcafé im Gemeindehaus", "Innenstadt", "1200.00"),                             # submitted
    Project("kultur", "Theaterwerkstatt „Unser Viertel“", "Weststadt", "4800.00"),                      # screening
    Project("schinkel", "Gemeinsam gärtnern im Schinkel", "Schinkel", "950.00"),                          # needs_info
    Project("marien", "Kochen aus aller Welt", "Innenstadt", "1500.00"),                                  # ready
    Project("kultur", "Fotoprojekt „Mein Osnabrück“", "Wüste", "3200.00"),                              # on_agenda
    Project("schinkel", "Fahrradwerkstatt für alle", "Schinkel-Ost", "2800.00"),                          # on_agenda
    Project("marien", "Nähcafé Begegnung", "Innenstadt", "800.00"),                                       # approved
    Project("kultur", "Musik verbindet – Bandprojekt", "Hafen", "5000.00"),                               # partly
    Project("schinkel", "Städtereise nach Berlin", "Schinkel", "4900.00"),                                # rejected
    Project("marien", "Lesepatenschaften", "Innenstadt", "1100.00"),                                      # deferred
    Project("kultur", "Tanz im Quartier", "Dodesheide", "2100.00"),                                       # letter_sent
    Project("marien", "Spielplatzfest für Groß und Klein", "Hellern", "650.00"),                          # letter_sent
    Project("schinkel", "Fußballturnier der Nachbarschaften", "Schinkel", "1750.00"),                     # paid
    Project("marien", "Erzählcafé „Angekommen in Osnabrück“", "Innenstadt", "900.00"),                  # report_due
    Project("kultur", "Kunst am Bauzaun", "Fledder", "2600.00"),                                          # report_submitted
    Project("schinkel", "Straßenfest Bremer Straße", "Schinkel", "3000.00"),                              # closed
    Project("marien", "Ausflug in den Zoo", "Innenstadt", "700.00"),                                      # reclaim
    Project("kultur", "Filmabende im Stadtteil", "Eversburg", "1300.00"),                                 # withdrawn
    Project("schinkel", "Vereinsheim-Renovierung", "Schinkel", "5000.00"),                                # ineligible
]}


def state(db: Database) -> str:
    """'absent', 'complete', or 'partial' (an earlier run stopped half-way)."""
    with db.read() as s:
        if s.scalar(select(Program.id).where(Program.code == PROGRAM_CODE)) is None:
            return "absent"
        return "complete" if s.scalar(select(AuditEvent.id).where(AuditEvent.action == DONE)) else "partial"


def load(db: Database, config: Config, drain: Callable[[], None]) -> list[tuple[str, str, str]]:
    """Live the demo's past up to now; returns (email, role, password) of every demo user.
    `drain` runs every queued flow job to its end (the demo's own job runner)."""
    w = World(db, config, partial(_settle, db, drain), clock.today())
    last = datetime.min.replace(tzinfo=UTC)
    for moment, scene in sorted(_story(w), key=lambda e: e[0]):
        # a long scene (a sitting) may run into the next one's hour: that one starts a little later
        start = max(moment, last + timedelta(minutes=2))
        if start >= clock.now():
            raise RuntimeError(f"the demo's story reached the present too early ({start:%Y-%m-%d %H:%M})")
        with clock.travel(start):
            scene()
            w.settle()
            last = clock.now()
    # the present: a case submitted minutes ago; its screening and receipt stay queued for `grants serve`
    with clock.travel(max(clock.now() - timedelta(minutes=40), last + timedelta(minutes=2))):
        do.apply(w, P["Sprachcafé im Gemeindehaus"], w.today + timedelta(days=30), w.today + timedelta(days=120))
    with db.session() as s:
        audit.record(s, Actor.system("demo"), DONE)
    return created(w)


def _settle(db: Database, drain: Callable[[], None]) -> None:
    drain()
    with db.read() as s:
        failed = s.scalars(select(FlowJob).where(FlowJob.state == "failed").limit(1)).first()
    if failed is not None:
        raise RuntimeError(f"the demo's flow {failed.flow} failed: {failed.error}")


def _sitting_day(today: date) -> date:
    """The next sitting: in two to four days, on the weekday nearest to Wednesday."""
    return min((today + timedelta(days=n) for n in (2, 3, 4)), key=lambda d: (abs(d.weekday() - 2), d))


def _story(w: World) -> list[tuple[datetime, Callable[[], None]]]:
    t, at = w.today, w.at
    s3 = _sitting_day(t)
    s2, day = s3 - timedelta(days=14), timedelta(days=1)
    s1 = s2 - 140 * day
    events: list[tuple[datetime, Callable[[], None]]] = []

    def on(moment: datetime, fn, *args, **kw) -> None:
        events.append((moment, partial(fn, w, *args, **kw)))

    # the city sets up, the organisations register, the first donations arrive
    on(w.ago(270, 9), staff_program_committee)
    for i, org in enumerate(ORGS):
        on(w.ago(262 - 4 * i, 10 + i), register, org)
    on(w.ago(236, 9, 30), do.bank_statement, [
        Entry(t - 243 * day, True, (Transfer(D("25000.00"), "Sparkasse Osnabrück Stiftung", "DE59265501051234567890", GIFT),)),
        Entry(t - 239 * day, True, (Transfer(D("12000.00"), "Bürgerstiftung Osnabrück", "DE31265501050055500123",
                                             "Zuwendung Buergerstiftung fuer Osnabrueck hilft"),))], t - 237 * day)

    # the first sitting, about five months ago, and what became of its grants
    first = {"Fußballturnier der Nachbarschaften": (s1 + 21 * day, t + 20 * day),
             "Erzählcafé „Angekommen in Osnabrück“": (s1 + 14 * day, t - 35 * day),
             "Kunst am Bauzaun": (s1 + 10 * day, t - 45 * day),
             "Straßenfest Bremer Straße": (s1 + 20 * day, s1 + 55 * day),
             "Ausflug in den Zoo": (s1 + 12 * day, s1 + 45 * day)}
    for i, (title, (start, end)) in enumerate(first.items()):
        on(at(s1 - (44 - i) * day, 10), do.apply, P[title], start, end)
        note = ("Die Honorare sind hoch angesetzt; empfohlen wird ein Zuschuss von 2.200,00 €."
                if title == "Kunst am Bauzaun" else "Förderfähig; Zuschuss in beantragter Höhe empfohlen.")
        on(at(s1 - (30 - i) * day, 9, 30), do.ready, title, note, "2.200,00" if title == "Kunst am Bauzaun" else "")
    on(at(s1 - 32 * day, 11), sit.plan, "first", at(s1, 14))
    on(at(s1, 14) - 5 * day, sit.tick)       # the cut-off as the sitting has it (summer time may end between)
    on(at(s1 - 3 * day, 10), sit.recuse, "first", "Fußballturnier der Nachbarschaften", "jugend",
       "Ich bin Mitglied im Vorstand der Nachbarschaftshilfe Schinkel e.V.")
    yes = {"chair": "yes", "jugend": "yes", "soziales": "yes", "bildung": "yes"}
    on(at(s1, 13, 55), sit.hold, "first", {"chair", "jugend", "soziales", "bildung", "staff"}, [
        Item("Fußballturnier der Nachbarschaften", "approve", {k: v for k, v in yes.items() if k != "jugend"}),
        Item("Erzählcafé „Angekommen in Osnabrück“", "approve", yes),
        Item("Kunst am Bauzaun", "approve_partly", {**yes, "bildung": "abstain"}, D("2200.00"),
             "Die Honorare werden nur in ortsüblicher Höhe gefördert."),
        Item("Straßenfest Bremer Straße", "approve", {**yes, "jugend": "no"}),
        Item("Ausflug in den Zoo", "approve", yes)])
    on(at(s1 + day, 10), sit.sign_minutes, "first")
    on(at(s1 + day, 14), do.release, list(first))
    payday = next_business_day(s1 + day)
    on(at(payday, 9), _pay)
    execution = next_business_day(payday)
    on(at(next_business_day(execution), 8, 30), _booked, [
        Entry(t - 200 * day, True, (Transfer(D("500.00"), "Anonyme Spende", "DE33265900250004711200", GIFT),))])
    for title in ("Ausflug in den Zoo", "Straßenfest Bremer Straße", "Kunst am Bauzaun",
                  "Erzählcafé „Angekommen in Osnabrück“"):
        on(at(first[title][1] + day, 6), do.reminders)
    zoo_end, fest_end = first["Ausflug in den Zoo"][1], first["Straßenfest Bremer Straße"][1]
    on(at(zoo_end + 12 * day, 15), do.report, "Ausflug in den Zoo", D("0.5"),
       "Geplant waren zwei Ausflüge in den Osnabrücker Zoo. Der erste fand mit 38 Kindern und Eltern aus der "
       "Gemeinde und der Unterkunft am Natruper Holz statt; der zweite fiel wegen der Sommerferien aus.", 38)
    on(at(fest_end + 9 * day, 18), do.report, "Straßenfest Bremer Straße", D("1"),
       "Das Straßenfest mit Musik, Essensständen aus zwölf Ländern und einem Kinderflohmarkt besuchten rund "
       "400 Menschen; Geflüchtete aus der Nachbarschaft haben mitorganisiert.", 400)
    on(at(fest_end + 16 * day, 10), do.accept, "Straßenfest Bremer Straße", "Sachbericht und Belege sind schlüssig.")
    on(at(t - 20 * day, 10), do.reclaim, "Ausflug in den Zoo",
       "Nur einer der beiden bewilligten Ausflüge hat stattgefunden; der nicht verbrauchte Teil der Zuwendung "
       "ist zu erstatten (§ 49 Abs. 3 Nr. 1 VwVfG).")
    on(at(t - 18 * day, 8, 30), do.bank_statement, [
        Entry(t - 60 * day, True, (Transfer(D("3000.00"), "Rotary Club Osnabrück", "DE50265515400087654321", GIFT),)),
        Entry(t - 20 * day, True, (Transfer(D("1834.50"), "Gesamtschule Schinkel Foerderverein",
                                            "DE95265501050020261102", "Spendenlauf 2026 fuer Osnabrueck hilft"),))],
       t - 19 * day)
    on(at(t - 6 * day, 17), do.report, "Kunst am Bauzaun", D("1"),
       "Acht Workshops mit Jugendlichen aus dem Fledder und aus der Unterkunft an der Hamburger Straße; "
       "der bemalte Bauzaun steht seit der Vernissage am Stadtteilfest.", 64)

    _second(w, on, s2, s3)
    return events


def _second(w: World, on, s2: date, s3: date) -> None:
    """The sitting ten days ago, the written procedure and the next sitting's agenda, and what
    came in meanwhile."""
    at, day = w.at, timedelta(days=1)
    second = {"Nähcafé Begegnung": (20, 110), "Musik verbindet – Bandprojekt": (25, 150),
              "Städtereise nach Berlin": (30, 33), "Tanz im Quartier": (14, 100),
              "Spielplatzfest für Groß und Klein": (30, 45), "Fahrradwerkstatt für alle": (35, 200),
              "Filmabende im Stadtteil": (20, 80), "Vereinsheim-Renovierung": (30, 90)}
    for i, (title, (start, end)) in enumerate(second.items()):
        on(at(s2 - (40 - i) * day, 10), do.apply, P[title], s2 + start * day, s2 + end * day)
    on(at(s2 - 31 * day, 16), do.withdraw, "Filmabende im Stadtteil")
    on(at(s2 - 30 * day, 10), do.ineligible, "Vereinsheim-Renovierung",
       "Bau- und Renovierungskosten eines Vereinsheims sind nach den Förderrichtlinien nicht förderfähig.")
    on(at(s2 - 29 * day, 11), sit.plan, "second", at(s2, 14))
    notes = {"Musik verbindet – Bandprojekt": ("Instrumente sind Anschaffungen; empfohlen werden 3.500,00 €.", "3.500,00"),
             "Städtereise nach Berlin": ("Der Förderzweck ist fraglich: die Reise führt aus dem Quartier hinaus.", "")}
    for i, title in enumerate(list(second)[:6]):
        note, amount = notes.get(title, ("Förderfähig; Zuschuss in beantragter Höhe empfohlen.", ""))
        on(at(s2 - (27 - i) * day, 9, 30), do.ready, title, note, amount)
    on(at(s2, 14) - 5 * day, sit.tick)
    on(at(s2 - 2 * day, 10), sit.recuse, "second", "Spielplatzfest für Groß und Klein", "soziales",
       "Ich bin Mitglied des Kirchenvorstands von St. Marien.")
    yes = {"chair": "yes", "jugend": "yes", "soziales": "yes", "sport": "yes"}
    on(at(s2, 13, 55), sit.hold, "second", {"chair", "jugend", "soziales", "sport", "staff"}, [
        Item("Nähcafé Begegnung", "approve", yes),
        Item("Musik verbindet – Bandprojekt", "approve_partly", {**yes, "jugend": "no"}, D("3500.00"),
             "Gefördert werden Honorare und Proberaum; Instrumente sind Anschaffungen und nicht förderfähig."),
        Item("Städtereise nach Berlin", "reject", yes, None,
             "Eine Städtereise nach Berlin dient nicht der Begegnung im Osnabrücker Quartier (Förderzweck)."),
        Item("Tanz im Quartier", "approve", yes),
        Item("Spielplatzfest für Groß und Klein", "approve", {k: v for k, v in yes.items() if k != "soziales"}),
        Item("Fahrradwerkstatt für alle", "defer", yes, None,
             "Der Standort der Werkstatt ist noch nicht gesichert; der Verein legt zur nächsten Sitzung die "
             "Zusage des Vermieters vor.")])
    on(at(s2 + day, 10), sit.sign_minutes, "second")
    on(at(s2 + day, 15), do.release, ["Tanz im Quartier", "Spielplatzfest für Groß und Klein"])
    on(at(s2 + day, 16), sit.plan, "next", at(s3, 14))
    on(at(next_business_day(s2 + day), 9), do.payment_run)

    later = {"Gemeinsam gärtnern im Schinkel": (2, 40, 160), "Lesepatenschaften": (3, 25, 150),
             "Fotoprojekt „Mein Osnabrück“": (4, 30, 120), "Kochen aus aller Welt": (7, 35, 95)}
    for title, (submitted, start, end) in later.items():
        on(at(s2 + submitted * day, 15), do.apply, P[title], s2 + start * day, s2 + end * day)
    on(at(s2 + 4 * day, 10), do.ask, "Gemeinsam gärtnern im Schinkel",
       "Bitte reichen Sie ein Angebot für die Hochbeete nach und sagen Sie uns, wem die Fläche gehört.")
    on(at(s2 + 5 * day, 10), do.ready, "Lesepatenschaften",
       "Eilig: Die Lesepaten sollen mit dem neuen Schulhalbjahr beginnen; Umlaufverfahren vorgeschlagen.")
    on(at(s2 + 6 * day, 10), do.ready, "Fotoprojekt „Mein Osnabrück“")
    # the written procedure ends by an objection after the next sitting's cut-off: deferred, it waits
    on(at(s2 + 8 * day, 10), sit.circulate, "written", "Lesepatenschaften", at(s2 + 12 * day, 12))
    on(at(s2 + 8 * day, 15), sit.written_vote, "written", "Lesepatenschaften", "chair", "yes")
    on(at(s2 + 8 * day, 17), sit.written_vote, "written", "Lesepatenschaften", "jugend", "yes")
    cutoff = at(s3, 14) - 5 * day
    on(cutoff, sit.tick)
    on(cutoff + timedelta(hours=2), _objection)
    slots = [at(s3 - 4 * day, h) for h in (9, 10, 11)]
    if slots[-1] + timedelta(hours=1) > clock.now():
        slots = [cutoff + timedelta(hours=h) for h in (3, 4, 5)]
    on(slots[0], do.apply, P["Theaterwerkstatt „Unser Viertel“"], s3 + 30 * day, s3 + 200 * day)
    on(slots[1], do.ready, "Kochen aus aller Welt")
    on(slots[2], do.apply, P["Interkulturelles Nachbarschaftsfest am Schinkelbad"], s3 + 60 * day, s3 + 61 * day,
       steps=2, submit=False)


def _objection(w: World) -> None:
    sit.written_vote(w, "written", "Lesepatenschaften", "sport", "object")
    do.wait(minutes=1)
    sit.tick(w)


def _pay(w: World) -> None:
    do.payment_run(w)
    do.wait(minutes=10)
    w.payout_files.append(do.payout_file(w))


def _booked(w: World, credits: list[Entry]) -> None:
    """The bank executed the payment run on the day the file asked for, one batch booking; finance
    uploads the statement up to that day."""
    execution, transfers = transfers_in(w.payout_files[-1])
    do.bank_statement(w, [*credits, Entry(execution, False, tuple(transfers))], execution)
