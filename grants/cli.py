"""The `grants` command: the command line users and scripts rely on (README.md "Command line")."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import click

from grants.config import load_config
from grants.db import Database
from grants.domain.money import fmt_plain
from grants.services.errors import Invalid, NotFound, ServiceError

EXIT_BAD_INPUT = 2


def _db():
    config = load_config()
    config.ensure_dirs()
    return config, Database(config.database_url)


def _require_schema(config) -> None:
    from grants.migrate import current_heads, script_heads

    if current_heads(config.database_url) != script_heads():
        click.echo("The database is not at the newest migration: run `grants init` first.", err=True)
        sys.exit(1)


def _json_default(o):
    if isinstance(o, Decimal):
        return fmt_plain(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(type(o))


def _emit_json(doc) -> None:
    click.echo(json.dumps(doc, default=_json_default, ensure_ascii=False, indent=2))


def _fail(e: ServiceError) -> None:
    click.echo(f"error: {e}", err=True)
    sys.exit(EXIT_BAD_INPUT if isinstance(e, (Invalid, NotFound)) or e.status in (400, 404, 409, 422) else 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Grant management for "Dein Quartier und du" (Stadt Osnabrück)."""


@main.command()
def init():
    """Create or upgrade the database to the newest migration; safe to run again."""
    from grants.migrate import upgrade

    config = load_config()
    config.ensure_dirs()
    upgrade(config.database_url)
    click.echo(f"database ready: {config.database_url.split('@')[-1]}")


@main.command()
def demo():
    """Load demo data: nine months of the program lived through its real services and flows (users of
    every role, organisations, donations, sittings, letters, payouts, bank statements, cases in every
    state); safe to run again."""
    from grants import runtime
    from grants.engine.prefect_server import use_environment
    from grants.services import demo as demo_service

    config, db = _db()
    _require_schema(config)
    found = demo_service.state(db)
    if found == "complete":
        click.echo("Demo data is already there; nothing changed.")
        return
    if found == "partial":
        click.echo("error: an earlier `grants demo` stopped half-way; start again with an empty GRANTS_HOME.", err=True)
        sys.exit(1)
    # the demo's flows run here, as `grants serve` runs them: on a local Prefect server (whose run
    # history `grants serve` shows later) unless PREFECT_API_URL names one
    use_environment(config)             # before Prefect is imported
    from grants.engine.prefect_server import PrefectServer, flush_run_logs
    from grants.engine.runner import JobRunner

    runtime.install(config, db)
    server = PrefectServer(config.prefect_home, port=config.prefect_ui_port) if config.embedded_engine else None
    runner = None
    try:
        if server:
            server.start()
        # one thread: the demo waits for every step anyway, and two only meet in "database is
        # locked" retries on Prefect's SQLite (a third slower, measured)
        runner = JobRunner(db, api_url=server.api_url if server else config.prefect_api_url, workers=1)
        created = demo_service.load(db, config, lambda: runner.drain(timeout=600))
    except Exception as e:  # noqa: BLE001 - told plainly; the job runner logged any flow's traceback
        click.echo(f"error: the demo stopped: {e}", err=True)
        sys.exit(1)
    finally:
        if runner:
            runner.stop()
        if server and server.proc is not None:
            flush_run_logs()                      # the runs' last log lines, while the server listens
            server.stop()
        db.dispose()
    click.echo("Demo users (passwords are shown only this once):")
    for email, role, password in created:
        click.echo(f"  {role:<10} {email:<42} {password}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="web worker threads")
def serve(host, port, threads):
    """Run the web application and the workflow engine until Ctrl-C."""
    from grants.serve import run

    config, db = _db()
    _require_schema(config)
    run(config, db, host=host, port=port, threads=threads)


@main.command()
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64), help="flows run at once")
@click.option("--grace", default=30.0, show_default=True, type=float,
              help="seconds running flows get to finish on SIGTERM; the rest run again elsewhere")
@click.option("--dispatch/--no-dispatch", default=True, show_default=True,
              help="also hand queued jobs to Prefect and run the scheduler")
def worker(threads, grace, dispatch):
    """Run flows for the Prefect server in PREFECT_API_URL (scale-out) until SIGTERM or Ctrl-C."""
    from grants.work import run

    config, db = _db()
    if config.embedded_engine:
        click.echo("error: PREFECT_API_URL is not set; `grants serve` runs the flows itself then.", err=True)
        sys.exit(EXIT_BAD_INPUT)
    _require_schema(config)
    sys.exit(run(config, db, threads=threads, grace=grace, dispatch=dispatch))


@main.group()
def user():
    """Manage user accounts."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, help="applicant, staff, committee, chair, finance or admin")
@click.option("--org", "org_name", default=None, help="organisation name (applicants)")
@click.option("--name", default="", help="display name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def user_add(email, role, org_name, name, password_stdin):
    """Add a user with a role (and an organisation for applicants)."""
    from grants.services import accounts
    from grants.services.actor import Actor

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    config, db = _db()
    _require_schema(config)
    try:
        with db.session() as s:
            u = accounts.create_user(s, Actor.system("cli"), email, role, password, name=name, org_name=org_name)
            click.echo(f"user {u.email} ({u.role}) added")
    except ServiceError as e:
        _fail(e)


@main.group()
def fund():
    """The donation fund."""


@fund.command("balance")
@click.option("--json", "as_json", is_flag=True)
def fund_balance(as_json):
    """Donations in, committed, paid out, refunded, available."""
    from grants.services import ledger

    config, db = _db()
    _require_schema(config)
    with db.session() as s:
        f = ledger.default_fund(s)
        if f is None:
            click.echo("error: no fund is configured (run `grants demo` or create one)", err=True)
            sys.exit(1)
        b = ledger.balances(s, f.id).as_dict()
    if as_json:
        _emit_json(b)
    else:
        labels = {"donations": "Spenden", "committed": "gebunden", "paid": "ausgezahlt",
                  "refunded": "zurückgezahlt", "available": "verfügbar"}
        click.echo(f.name)
        for k, v in b.items():
            click.echo(f"  {labels[k]:<14} {fmt_plain(v):>14} EUR")


@main.group()
def finance():
    """Payouts and bank statements."""


@finance.command("payout-file")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def finance_payout_file(out):
    """Write a SEPA credit transfer file (pain.001.001.09) for every released payout not yet sent; marks them sent."""
    from pathlib import Path

    from grants.services import payouts
    from grants.services.actor import Actor

    config, db = _db()
    _require_schema(config)
    target = Path(out)
    if not target.parent.exists():
        click.echo(f"error: {out}: the folder {target.parent} does not exist", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        with db.session() as s:
            result = payouts.write_file(s, Actor.system("cli"), target)
    except ServiceError as e:
        _fail(e)
    except OSError as e:
        click.echo(f"error: {out}: {e.strerror or e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if result.count == 0:
        click.echo("no released payouts waiting to be sent; no file written", err=True)
        return
    click.echo(f"{out}: {result.count} payouts, {fmt_plain(result.total)} EUR, message id {result.message_id}")


@finance.command("import-statement")
@click.argument("files", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
def finance_import_statement(files, as_json):
    """Import bank statements (camt.053, any version, or a ZIP of them) and reconcile them."""
    from pathlib import Path

    from grants.banking.camt import StatementError
    from grants.services import statements
    from grants.services.actor import Actor

    config, db = _db()
    _require_schema(config)
    results, bad = [], False
    for name in files:
        path = Path(name)
        try:
            if not path.is_file():
                raise StatementError("no such file" if not path.exists() else "not a regular file")
            with db.session() as s:
                results.append(statements.import_file(s, path, Actor.system("cli"), display_name=name))
        except StatementError as e:
            bad = True
            click.echo(f"error: {name}: {e}; nothing was imported from this file", err=True)
            results.append(statements.FileResult(file=name, error=str(e)))
        except OSError as e:
            bad = True
            click.echo(f"error: {name}: cannot read: {e.strerror or e}; nothing was imported", err=True)
            results.append(statements.FileResult(file=name, error=str(e)))
    if as_json:
        _emit_json({"files": [r.as_dict() for r in results]})
    else:
        for r in results:
            if r.error is None:
                click.echo(f"{r.file}: {r.entries} entries, {r.matched} matched, {r.unmatched} to assign, "
                           f"{r.already_imported} already imported, {r.ignored} pending")
    if bad:
        sys.exit(EXIT_BAD_INPUT)


@finance.command("payments")
@click.option("--json", "as_json", is_flag=True)
def finance_payments(as_json):
    """List payouts with their state: due, released, sent, booked, returned."""
    from grants.services import fund as fund_service

    config, db = _db()
    _require_schema(config)
    with db.session() as s:
        rows: list[dict[str, Any]] = [{"file_number": fn, "end_to_end_id": p.end_to_end_id, "amount": p.amount,
                                       "iban": p.iban, "state": p.state} for p, fn in fund_service.payouts(s)]
    if as_json:
        _emit_json({"payments": rows})
    else:
        for r in rows:
            click.echo(f"{r['file_number']:<16} {r['end_to_end_id']:<24} {fmt_plain(r['amount']):>10} "
                       f"{r['iban']:<24} {r['state']}")


@main.group(invoke_without_command=True)
@click.option("--state", default=None, help="only cases in this state")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cases(ctx, state, as_json):
    """List cases: file number, organisation, title, amounts, state."""
    if ctx.invoked_subcommand is not None:
        return
    from grants.domain.workflow import State
    from grants.services import queries
    from grants.services.actor import Actor

    if state is not None and state not in {s.value for s in State}:
        click.echo(f"error: unknown state {state!r} (known: {', '.join(s.value for s in State)})", err=True)
        sys.exit(EXIT_BAD_INPUT)
    config, db = _db()
    _require_schema(config)
    with db.session() as s:
        rows = [{"file_number": c.file_number, "organisation": org, "title": c.title,
                 "requested": c.requested, "granted": c.granted, "state": c.state}
                for c, org in queries.case_rows(s, Actor.system("cli"), state=state)]
    if as_json:
        _emit_json({"cases": rows})
    else:
        for r in rows:
            granted = fmt_plain(r["granted"]) if r["granted"] is not None else "-"
            click.echo(f"{r['file_number'] or '(draft)':<16} {r['state']:<20} {fmt_plain(r['requested']):>9} "
                       f"{granted:>9}  {r['organisation']} – {r['title']}")


@cases.command("show")
@click.argument("file_number")
@click.option("--json", "as_json", is_flag=True)
def cases_show(file_number, as_json):
    """One case: history, screening verdicts, decision, letters, payouts, proof-of-use deadline."""
    from grants.services import case_report

    config, db = _db()
    _require_schema(config)
    try:
        with db.session() as s:
            doc = case_report.report(s, file_number)
    except ServiceError as e:
        _fail(e)
    if config.storage != config.home:
        # the contract promises paths absolute or relative to GRANTS_HOME; these live elsewhere
        for letter in doc["letters"]:
            for k in ("pdf", "docx"):
                if letter.get(k):
                    letter[k] = str(config.storage / letter[k])
    if as_json:
        _emit_json(doc)
    else:
        click.echo(f"{doc['file_number']}  {doc['state']}  {doc['title']}")
        click.echo(f"  {doc['organisation']}")
        click.echo(f"  requested {fmt_plain(doc['requested'])}  granted "
                   f"{fmt_plain(doc['granted']) if doc['granted'] is not None else '-'}")
        click.echo("history:")
        for h in doc["history"]:
            click.echo(f"  {h['at']}  {h['from'] or '':<20} -> {h['to']:<20} {h['by']}")
        if doc["verdicts"]:
            click.echo("screening:")
            for v in doc["verdicts"]:
                click.echo(f"  {v['result']:<5} {v['rule']}: {v['reason']}")
        if doc["decision"]:
            click.echo(f"decision: {doc['decision']['kind']} {doc['decision'].get('amount') or ''}")
        for letter in doc["letters"]:
            click.echo(f"letter: {letter['kind']} v{letter['version']} {letter['pdf']}")
        for p in doc["payouts"]:
            click.echo(f"payout: {p['end_to_end_id']} {p['amount']} {p['state']}")
        click.echo(f"proof of use due: {doc['report_due'] or '-'}")


if __name__ == "__main__":
    main()
