"""Helpers shared by every blueprint: page-or-fragment rendering and redirects."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response


def wants_fragment() -> bool:
    """Tell whether to answer with a fragment: an htmx request that is not boosted."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_block(template_name: str, block_name: str, **context) -> str:
    """Render one named block of a template, with the usual template context.

    Macros a block uses must be imported inside the block: the template's
    top-level code (where imports usually sit) does not run for a lone block.
    """
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    ctx = template.new_context(context)
    return "".join(template.blocks[block_name](ctx))


def render(template_name: str, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only ``block`` when htmx asked for a fragment.

    A page template includes its own fragments as named blocks, so the markup
    exists once and the same view serves both.
    """
    if block and wants_fragment():
        return render_block(template_name, block, **context), status
    return render_template(template_name, **context), status


#: The event a change to a carnet announces; its header, status and counts listen for it.
CARNET_CHANGED = "carnet-changed"
#: The event of a change answered by the status section itself: only the header refreshes.
SUMMARY_CHANGED = "carnet-summary-changed"


def carnet_changed(response: Response, event: str = CARNET_CHANGED) -> Response:
    """Tell the page (htmx) that the carnet changed: parts that show it refresh themselves."""
    response.headers["HX-Trigger"] = event
    return response


def push_url(response: Response, location: str) -> Response:
    """Tell htmx which address the swapped content has (the address bar and Back follow)."""
    response.headers["HX-Push-Url"] = location
    return response


def see_other(endpoint: str, **values) -> Response:
    """Redirect after a change: 303 for a form post, ``HX-Redirect`` for htmx."""
    return redirect_url(url_for(endpoint, **values))


def redirect_url(location: str) -> Response:
    """Redirect to a URL already built (see :func:`see_other`)."""
    if wants_fragment():
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local path (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def absolute_url(endpoint: str, **values) -> str:
    """Build an absolute link on ``CVN_BASE_URL`` (for e-mails and QR codes).

    Works inside or outside a request (CLI, scheduled jobs). ``_anchor`` adds a
    fragment, as with ``url_for``.
    """
    anchor = values.pop("_anchor", None)
    parts = urlsplit(current_app.config["CVN_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "https")
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor)}" if anchor else url
