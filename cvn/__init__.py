"""CVN — carnet de vaccination numérique."""
from __future__ import annotations

from flask import Flask

from cvn.config import ROOT, finish, from_env, instance_path


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the CVN application."""
    app = Flask(
        __name__,
        instance_path=str(instance_path()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(from_env())
    if config:
        app.config.update(config)
    finish(app.config)
    if app.config.get("CVN_STATIC_FOLDER"):
        app.static_folder = str(app.config["CVN_STATIC_FOLDER"])

    from cvn import access, dbpool, extensions, inputs, logs, offline, security, sessions, static_files, templating
    from cvn.auth import account_routes, methods_routes  # noqa: F401  (routes on the auth blueprint)
    from cvn.auth import routes as auth_routes  # noqa: F401  (user loader)
    from cvn.validation import services as validation_services

    extensions.db.init_app(app)
    dbpool.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"),
                                render_as_batch=True)
    sessions.init_app(app)
    extensions.login_manager.init_app(app)
    extensions.mail.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.babel.init_app(app)
    extensions.limiter.init_app(app)
    extensions.compress.init_app(app)
    static_files.init_app(app)
    offline.init_app(app)
    security.init_app(app)
    logs.init_app(app)
    inputs.init_app(app)
    _sqlite_foreign_keys(app)
    templating.init_app(app)

    from cvn.admin.routes import bp as admin_bp
    from cvn.archives.routes import bp as archives_bp
    from cvn.auth.routes import bp as auth_bp
    from cvn.carnets.routes import bp as carnets_bp
    from cvn.errors import init_app as init_errors
    from cvn.main.routes import bp as main_bp
    from cvn.outbox.routes import bp as outbox_bp
    from cvn.patient.routes import bp as patient_bp
    from cvn.portability.routes import bp as portability_bp
    from cvn.privacy.routes import bp as privacy_bp
    from cvn.pro.routes import bp as pro_bp
    from cvn.sharing.routes import bp as sharing_bp
    from cvn.validation.routes import bp as validation_bp

    from cvn.alerts.routes import bp as alerts_bp
    from cvn.status.routes import bp as status_bp

    for blueprint in (main_bp, auth_bp, pro_bp, carnets_bp, sharing_bp, validation_bp, archives_bp,
                      status_bp, alerts_bp, patient_bp, admin_bp, outbox_bp, portability_bp, privacy_bp):
        app.register_blueprint(blueprint)
    init_errors(app)
    app.before_request(access.enforce_second_factor)
    app.jinja_env.globals["needs_second_factor"] = access.needs_second_factor
    app.jinja_env.globals["waiting_count"] = validation_services.waiting_count

    from cvn import cli, jobs

    cli.init_app(app)
    jobs.init_app(app)
    _behind_proxies(app)
    return app


def _behind_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly ``CVN_PROXY_HOPS`` reverse proxies (none by default)."""
    hops = int(app.config.get("CVN_PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _sqlite_foreign_keys(app: Flask) -> None:
    """Make SQLite enforce foreign keys, as PostgreSQL does."""
    from sqlalchemy import event

    from cvn.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
