"""The finance front door: the fund's balances and payouts."""

from __future__ import annotations

from flask import Blueprint, render_template

from grants.domain.roles import Perm
from grants.services import fund as fund_service
from grants.web.access import requires
from grants.web.util import db

bp = Blueprint("finance", __name__, url_prefix="/finanzen")


@bp.get("/")
@requires(Perm.FINANCE_VIEW)
def home():
    with db().session() as s:
        fund = fund_service.default_fund(s)
        balances = fund_service.balances(s, fund.id) if fund else None
        payouts = fund_service.payouts(s)
    return render_template("finance/home.html", fund=fund, balances=balances, payouts=payouts)
