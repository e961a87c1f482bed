"""
A real django-oauth-toolkit (DOT) authorization server for Latch's integration tests, configured the
way a deployment with ScaleGrowth's `/o/` endpoints would be: PKCE required, OpenID Connect on with an
RSA key made for this run (RS256), refresh tokens rotated at once (no grace period), one grant type
per application. Started by test/helpers/dot.ts, which documents the contract:

    LATCH_DOT_CONFIG='{"db": …, "log": …, "oidc": true, "accessTokenTtl": 3600, "user": {…}, "apps": […]}'
    /usr/bin/python3 test/helpers/dot/server.py

It migrates a fresh SQLite database, creates the user and the applications, serves on 127.0.0.1 on a
port the OS picks (threaded WSGI server from the standard library: no autoreloader, no extra process),
and prints one line, `{"port": N, "ms": …}`, on stdout once it accepts connections. It exits when its
stdin closes (the test process died) or on SIGTERM.
"""
import json
import os
import sys
import threading
import time

started = time.monotonic()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
CONFIG = json.loads(os.environ["LATCH_DOT_CONFIG"])


def rsa_private_key_pem():
    """A fresh RSA key per run, as `openssl genrsa` would make (2048 bits: ~0.1 s here, 4096: ~1 s)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


oauth2_provider_settings = {
    "PKCE_REQUIRED": True,
    "SCOPES": CONFIG["scopes"],
    # A request without `scope` gets these (DOT's default is every scope, openid included).
    "DEFAULT_SCOPES": CONFIG.get("defaultScopes", ["read"]),
    "ACCESS_TOKEN_EXPIRE_SECONDS": CONFIG.get("accessTokenTtl", 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "OAUTH2_VALIDATOR_CLASS": "latch_dot.Validator",
}
if CONFIG.get("oidc", True):
    oauth2_provider_settings.update({"OIDC_ENABLED": True, "OIDC_RSA_PRIVATE_KEY": rsa_private_key_pem()})

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.urandom(32).hex(),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF="latch_dot",
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "oauth2_provider",
    ],
    MIDDLEWARE=[
        "latch_dot.RequestLog",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": CONFIG["db"]}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [os.path.join(HERE, "templates")],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
        }
    ],
    LOGIN_URL="/accounts/login/",
    USE_TZ=True,
    OAUTH2_PROVIDER=oauth2_provider_settings,
    LATCH_DOT_LOG=CONFIG["log"],
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    },
)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)

user = CONFIG["user"]
get_user_model().objects.create_user(
    username=user["username"],
    password=user["password"],
    email=user["email"],
    first_name=user["first_name"],
    last_name=user["last_name"],
)
Application = get_application_model()
for app in CONFIG["apps"]:
    Application.objects.create(
        name=app["name"],
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=app["grant"],
        redirect_uris=" ".join(app.get("redirect_uris", [])),
        algorithm=app.get("algorithm", ""),
        skip_authorization=app.get("skip_authorization", False),
    )

from socketserver import ThreadingMixIn  # noqa: E402
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server  # noqa: E402

from django.core.wsgi import get_wsgi_application  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # The BFF's ten concurrent refreshes, plus the test's own calls, without a refused connection.
    request_queue_size = 64


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


httpd = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler)


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
print(json.dumps({"port": httpd.server_port, "ms": round((time.monotonic() - started) * 1000)}), flush=True)
httpd.serve_forever()
