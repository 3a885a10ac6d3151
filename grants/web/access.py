"""Every route declares who may use it; the app refuses to start if one does not."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from grants.domain.roles import Perm

ACCESS_ATTR = "_grants_access"


def public(view):
    """Anybody, logged in or not."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def login_required(view):
    """Any logged-in user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, "login")
    return wrapped


def requires(*perms: Perm):
    """A logged-in user whose role has every one of `perms`; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not all(g.actor.can(p) for p in perms):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, tuple(p.value for p in perms))
        return wrapped

    return decorator


def undeclared_routes(app) -> list[str]:
    """Endpoints without an access declaration (static files are public by nature)."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if getattr(view, ACCESS_ATTR, None) is None:
            missing.append(endpoint)
    return sorted(missing)
