"""PolicyHub settings, read from the environment.

Defaults give a working local app (SQLite and Celery's filesystem broker under
var/, mail written to files); production differs only by environment variables,
which README.md ("Configuration") lists.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from policyhub.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

_DEVELOPMENT_KEY = "django-insecure-policyhub-local-development-only"
SECRET_KEY = env_str("SECRET_KEY", _DEVELOPMENT_KEY)
DEBUG = env_bool("DEBUG", False)

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) address, not {SITE_URL!r}.")
SITE_IS_HTTPS = _site.scheme == "https"
if SITE_IS_HTTPS and SECRET_KEY == _DEVELOPMENT_KEY:
    # A public site signing sessions with a published key is never what anyone wants.
    raise ImproperlyConfigured("SECRET_KEY must be set when SITE_URL is https.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", sorted({"127.0.0.1", "localhost", _site.hostname}))
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "people",
    "policies",
    "training",
    "incidents",
    "prevention",
    "dashboards",
    "notifications",
    "monitoring",
    "api",
    "evidence",
    "demo",
]

MIDDLEWARE = [
    # /healthz answers before host checks, https redirects, sessions and login, so
    # that probes by IP over plain http work and a database outage gives 503, not 500.
    "monitoring.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before the person is read: a kept page's data version (policyhub/kept.py).
    "policyhub.kept.DataVersionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "people.middleware.UserTimeZoneMiddleware",
    "people.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "policyhub.urls"
WSGI_APPLICATION = "policyhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "policyhub.navigation.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL (PostgreSQL in production), else an SQLite file under var/.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        _startup = []
        if not env_bool("DATABASE_JIT", False):
            # PostgreSQL compiles a query it expects to be costly (JIT). PolicyHub's reads
            # take milliseconds to a few hundred; compiling costs more than it saves (93 of
            # the 433 ms of My team's summary at 100,000 people), so our connections turn
            # it off.
            _startup.append("-c jit=off")
        # The planner's cost of reading a page out of order, against 1 in order. The
        # server's 4 assumes spinning disks; PolicyHub's tables are read from memory or
        # SSD, where a few thousand index lookups beat hashing a whole table (the
        # Compliance dashboard at 100,000 people: 293 -> 219 ms). "server": its own.
        _page_cost = env_str("DATABASE_RANDOM_PAGE_COST", "1.1")
        if _page_cost.lower() != "server":
            # Digits and a point only: what both Python and PostgreSQL read alike.
            _number = re.fullmatch(r"\d+(\.\d*)?|\.\d+", _page_cost)
            if not (_number and 0 < float(_page_cost) < 1000):
                raise ImproperlyConfigured(
                    "DATABASE_RANDOM_PAGE_COST must be a number above 0 and below 1000, "
                    f"or server, not {_page_cost!r}."
                )
            _startup.append(f"-c random_page_cost={_page_cost}")
        # Options given in DATABASE_URL (?options=...) come after and win.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        _joined = " ".join(filter(None, [*_startup, options.pop("options", "")]))
        if _joined:
            options["options"] = _joined
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "policyhub.sqlite3",
            # The web server, the worker and beat share the file: WAL lets readers
            # and one writer work at once, IMMEDIATE avoids upgrade deadlocks.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
            # A file, not memory, so that a real Celery worker in the tests sees it.
            "TEST": {"NAME": VAR_DIR / "test-policyhub.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
# django-axes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my_tasks"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The interface ships in these languages (locale/<code>/LC_MESSAGES/django.po); English is
# the source. A signed-in person sees their own language (User.language); a stranger the
# first of their browser's languages we have. docs/languages.md says how to add one.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [
    ("en-gb", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# WhiteNoise serves static files in every mode; vendored files carry their version
# in the name, so finders work without a collectstatic step.
WHITENOISE_USE_FINDERS = True

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: SMTP when EMAIL_HOST is set, otherwise one file per message under var/mail/.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PolicyHub <policyhub@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# Security: served over https (SITE_URL says so), cookies are secure, http is
# redirected and HSTS is sent; each can be overridden.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SITE_IS_HTTPS)
SESSION_COOKIE_SECURE = SITE_IS_HTTPS
CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SITE_IS_HTTPS else 0, minimum=0)
# An https site also commits its subdomains and asks to be preloaded (what
# `check --deploy` expects); a domain with plain-http subdomains turns either off.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SITE_IS_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SITE_IS_HTTPS)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself (nginx, a load balancer).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Kept pages (policyhub/kept.py): the figures pages are kept in each process's memory
# until the data under them changes (a version the database's triggers keep), midnight
# comes, or KEPT_PAGES_SECONDS pass. KEPT_PAGES=false computes every page every time.
KEPT_PAGES = env_bool("KEPT_PAGES", True)
KEPT_PAGES_SECONDS = env_int("KEPT_PAGES_SECONDS", 3600, minimum=1)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "kept": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kept-pages",
        "OPTIONS": {"MAX_ENTRIES": env_int("KEPT_PAGES_ENTRIES", 500, minimum=1)},
    },
}

# Celery: Redis when REDIS_URL is set, otherwise the filesystem transport under
# var/broker/, which works across processes with no server.
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = Path(env_str("BROKER_DIR", str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # An ask from a request tries Redis once: when it is down it fails at once and the
    # periodic runs catch up, rather than Kombu retrying for 6 s while the page waits.
    # The worker's own connection keeps retrying (broker_connection_max_retries).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# The filesystem broker has no broadcast exchange, so remote control (the pidbox
# behind `celery inspect`) only works on Redis.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = bool(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat records its heartbeat (seconds); /healthz reports its age.
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 60, minimum=5)

# Reminders (notifications/): how often beat plans and sends, retries, digests.
NOTIFICATIONS_PLAN_EVERY_MINUTES = env_int("REMINDERS_PLAN_EVERY_MINUTES", 15, minimum=1)
NOTIFICATIONS_SEND_EVERY_SECONDS = env_int("REMINDERS_SEND_EVERY_SECONDS", 60, minimum=1)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("REMINDERS_MAX_ATTEMPTS", 5, minimum=1)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("REMINDERS_RETRY_BASE_SECONDS", 60, minimum=1)
# A row claimed longer ago than this by a worker that died is claimed again.
NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = env_int("REMINDERS_CLAIM_TIMEOUT_SECONDS", 600, minimum=1)
NOTIFICATIONS_BATCH_SIZE = env_int("REMINDERS_BATCH_SIZE", 100, minimum=1)
NOTIFICATIONS_DIGEST_HOUR = 9
NOTIFICATIONS_WORKING_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday
# Slack/Teams reminders and outgoing webhooks (notifications/chat.py, webhooks.py).
# http://127.0.0.1 and localhost addresses only for development and tests.
NOTIFICATIONS_ALLOW_LOCAL_HTTP = env_bool("HOOKS_ALLOW_LOCAL_HTTP", DEBUG)
# Webhook and chat hosts on private, loopback or link-local addresses only when this is on.
NOTIFICATIONS_ALLOW_PRIVATE_HOSTS = env_bool("HOOKS_ALLOW_PRIVATE_HOSTS", False)
NOTIFICATIONS_HTTP_TIMEOUT_SECONDS = env_int("HOOKS_TIMEOUT_SECONDS", 10, minimum=1)
SLACK_BOT_TOKEN = env_str("SLACK_BOT_TOKEN", "")
SLACK_API_BASE = env_str("SLACK_API_BASE", "https://slack.com/api")

# Tests and special set-ups may name another mail backend outright.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", EMAIL_BACKEND)

for _folder in (VAR_DIR, VAR_DIR / "mail", STATIC_ROOT):
    _folder.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Login protection (django-axes): after LOGIN_FAILURE_LIMIT failed password logins for
# one account (from any address), or LOGIN_ADDRESS_FAILURE_LIMIT from one address (for
# any accounts: set far higher, as a whole office may share one address), every login
# there is refused for LOGIN_COOLOFF_MINUTES after the last failure that counted. Tries
# while refused do not count, so nobody can keep someone else's account locked by
# failing once every few minutes. A successful login clears that account's failures; a
# site admin lifts a lock from the person's admin page ("Lift login lock"), in Axes'
# Access attempts, or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The address's own limit, and a success clears only the account's own failures, not every
# failure from its address (people/login_protection.py).
AXES_HANDLER = "people.login_protection.LoginAttemptHandler"
AXES_USERNAME_FORM_FIELD = "username"
# Emails count without regard to case, as the login form compares them.
AXES_USERNAME_CALLABLE = "people.login_protection.attempt_username"
# One page for every refusal, saying how long to wait, never whether the account exists.
AXES_LOCKOUT_CALLABLE = "people.login_protection.locked_out_response"
AXES_VERBOSE = False
# The address counted is the client's. Behind a trusted proxy (TRUST_X_FORWARDED_PROTO
# =true) it is the last address in X-Forwarded-For, which the proxy appends (nginx:
# $proxy_add_x_forwarded_for); otherwise the connection's, as anyone can send the
# header. django-ipware is not installed, so axes' AXES_IPWARE_* settings would do nothing.
LOGIN_TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_PROTO", False)
AXES_CLIENT_IP_CALLABLE = "people.login_protection.client_address"

# The REST API (api/): integration tokens, read or read-write, and its OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.IntegrationTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PolicyHub API",
    "DESCRIPTION": "Policies, acknowledgements, training, compliance and incidents.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page's scripts are served from here, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI would put each path's link inside its expand button, a
    # control inside a control that screen readers and keyboards cannot use (axe-core).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
}

# Policies: reminder days (policies/reminders.py).
POLICY_DUE_SOON_DAYS = env_int("POLICY_DUE_SOON_DAYS", 3, minimum=1)
POLICY_ESCALATE_AFTER_DAYS = env_int("POLICY_ESCALATE_AFTER_DAYS", 7, minimum=1)

# Incidents: default action due dates by severity (days), evidence size limit.
INCIDENT_ACTION_DUE_DAYS = {
    "critical": env_int("INCIDENT_DUE_DAYS_CRITICAL", 2, minimum=1),
    "high": env_int("INCIDENT_DUE_DAYS_HIGH", 5, minimum=1),
    "medium": env_int("INCIDENT_DUE_DAYS_MEDIUM", 10, minimum=1),
    "low": env_int("INCIDENT_DUE_DAYS_LOW", 20, minimum=1),
}
INCIDENT_ESCALATE_AFTER_DAYS = env_int("INCIDENT_ESCALATE_AFTER_DAYS", 7, minimum=1)
INCIDENT_EVIDENCE_MAX_BYTES = env_int("INCIDENT_EVIDENCE_MAX_MB", 10, minimum=1) * 1024 * 1024

# Prevention intake (prevention/intake_feeds.py): how often feeds are fetched, the folder
# file:// feeds are read from (the demo's sample feed), and whether a feed may live on a
# private or local network address (off: a feed URL cannot be used to probe the inside).
PREVENTION_FEED_EVERY_MINUTES = env_int("PREVENTION_FEED_EVERY_MINUTES", 15, minimum=1)
PREVENTION_LOCAL_FEED_DIR = Path(
    env_str("PREVENTION_LOCAL_FEED_DIR", str(BASE_DIR / "prevention" / "demo_feeds"))
)
PREVENTION_FEED_ALLOW_PRIVATE_HOSTS = env_bool("PREVENTION_FEED_ALLOW_PRIVATE_HOSTS", False)

# --- Security headers (Content-Security-Policy and friends): the block belongs to
# policyhub/security.py --------------------------------------------------------------
# Every response carries these headers, /healthz and static files included: the middleware
# comes first of all (policyhub/security.py). Scripts and styles come only from this site's
# own files; the one inline script left, the API documentation page's start-up, carries a
# nonce made for that response (templates/drf_spectacular/swagger_ui.html).
from csp.constants import NONCE, NONE, SELF  # noqa: E402

# policyhub.security's app only starts the session clock at each login (see below).
INSTALLED_APPS += ["csp", "policyhub.security.SecurityConfig"]
MIDDLEWARE.insert(0, "policyhub.security.SecurityHeadersMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "policyhub.security.SessionLifetimeMiddleware",
)
# CSP_REPORT_URI: where browsers report what the policy blocked (e.g. an error tracker's
# CSP endpoint); unset, nothing is reported.
_csp_report_uri = env_str("CSP_REPORT_URI")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],  # the nonce only where a page asks for one
        "style-src": [SELF],
        # data: for Bootstrap's own icons (drawn as data: SVG in its CSS) and the favicon.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        # With single sign-on, the provider's origin is added from the OIDC_* settings.
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
# Other sites never learn which page a link was followed from (addresses name incidents).
SECURE_REFERRER_POLICY = "same-origin"
# Browser features no page uses, refused to every page and anything it could embed. The
# check-in QR code is shown on a screen and scanned by phones' own camera apps.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# A sign-in ends after SESSION_IDLE_MINUTES without a request (the session's age, pushed
# back at most once a minute while it is used), and SESSION_MAX_HOURS after the login
# however active the person is; the login page then says why.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 480, minimum=5)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)


# --- Two-factor sign-in (django-otp): the block belongs to people/two_factor/ ----------
# A code from an authenticator app (TOTP) after the password, with ten single-use recovery
# codes (people/two_factor/). Required for the roles in TWO_FACTOR_REQUIRED_ROLES, comma-
# separated from site_admin, hr_legal, policy_admin, comms, leadership, staff (Django admin
# access), everyone ("none": for nobody): until they have set up an app, their login reaches
# only the set-up pages. Everyone else may turn it on under "Two-factor sign-in".
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "people.two_factor.TwoFactorConfig",
]
_after_login = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_after_login:_after_login] = [
    "people.two_factor.middleware.OTPMiddleware",
    "people.two_factor.SecondFactorMiddleware",
]
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES", ["site_admin", "hr_legal"])
if TWO_FACTOR_REQUIRED_ROLES == ["none"]:
    TWO_FACTOR_REQUIRED_ROLES = []
_unknown_roles = set(TWO_FACTOR_REQUIRED_ROLES) - {
    "site_admin",
    "hr_legal",
    "policy_admin",
    "comms",
    "leadership",
    "staff",
    "everyone",
}
if _unknown_roles:
    raise ImproperlyConfigured(
        "TWO_FACTOR_REQUIRED_ROLES takes site_admin, hr_legal, policy_admin, comms, leadership, "
        f"staff, everyone or none, not {', '.join(sorted(_unknown_roles))}."
    )
# The name authenticator apps show beside the code.
OTP_TOTP_ISSUER = env_str("TWO_FACTOR_ISSUER", "PolicyHub")
# After n wrong codes in a row, the next try waits TWO_FACTOR_THROTTLE_SECONDS * 2^(n-1)
# seconds (1, 2, 4 ... with the default; ten wrong codes: eight and a half minutes).
OTP_TOTP_THROTTLE_FACTOR = env_int("TWO_FACTOR_THROTTLE_SECONDS", 1, minimum=1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR
# The admin's pages for devices never show a secret or a recovery code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A sign-in by single sign-on counts as two-factor when the ID token's amr claim holds one of
# OIDC_MFA_AMR_VALUES (default "mfa", RFC 8176's "multiple-factor authentication", which
# Microsoft Entra ID, Okta and Auth0 send after MFA) or its acr claim is one of
# OIDC_MFA_ACR_VALUES (provider-specific, e.g. a Keycloak level of assurance; none by default).
# Otherwise the person is asked for a code from their app, as after a password.
OIDC_MFA_AMR_VALUES = env_list("OIDC_MFA_AMR_VALUES", ["mfa"])
OIDC_MFA_ACR_VALUES = env_list("OIDC_MFA_ACR_VALUES", [])

# --- Single sign-on (OpenID Connect): the block belongs to people/sso/ ---------------
# OIDC_ISSUER turns it on; without it PolicyHub has password logins only and nothing below is
# active. The provider's endpoints come from its discovery document, fetched on first use and
# cached (people/sso/), never at start-up; OIDC_*_ENDPOINT and OIDC_JWKS_URI name them
# instead. Nobody is created by signing in: a person is matched by verified email to the
# directory, and an unknown or inactive person is refused.
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_ENABLED = OIDC_ISSUER is not None
# Passwords off for everyone but site admins (superusers), who keep them as a way in when
# the provider is down. Turning it on ends the password sessions already open.
OIDC_ONLY = env_bool("OIDC_ONLY", False)
if OIDC_ONLY and not OIDC_ENABLED:
    raise ImproperlyConfigured("OIDC_ONLY=true needs OIDC_ISSUER: there would be no way in.")
if OIDC_ENABLED:
    _oidc_issuer = urlsplit(OIDC_ISSUER)
    # Tokens are checked with keys fetched from the issuer: over plain http anyone on the
    # way could hand over their own. Plain http is for a provider on this machine (tests).
    if not _oidc_issuer.hostname or not (
        _oidc_issuer.scheme == "https"
        or (
            _oidc_issuer.scheme == "http"
            and _oidc_issuer.hostname in {"127.0.0.1", "localhost", "::1"}
        )
    ):
        raise ImproperlyConfigured(f"OIDC_ISSUER must be an https address, not {OIDC_ISSUER!r}.")
    OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
    for _name, _value in (
        ("OIDC_CLIENT_ID", OIDC_RP_CLIENT_ID),
        ("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET),
    ):
        if not _value:
            raise ImproperlyConfigured(f"{_name} must be set when OIDC_ISSUER is.")
    # The login page's button reads "Sign in with <OIDC_PROVIDER_NAME>".
    OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "SSO")
    OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
    if "openid" not in OIDC_RP_SCOPES.split():
        raise ImproperlyConfigured(f"OIDC_SCOPES must include openid, not {OIDC_RP_SCOPES!r}.")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
    # Public-key signatures only: an HS256 token is signed with the client secret, which
    # proves less, and "none" proves nothing.
    if OIDC_RP_SIGN_ALGO not in {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}:
        raise ImproperlyConfigured(
            f"OIDC_SIGN_ALGO must be one of RS256, RS384, RS512, ES256, ES384, ES512, "
            f"not {OIDC_RP_SIGN_ALGO!r}."
        )
    # The claim that must be true before an email is matched to the directory. Microsoft
    # Entra sends no email_verified: use its optional claim xms_edov (email domain owner
    # verified). "none" trusts every email the provider sends: only for a provider whose
    # administrators set every address themselves.
    OIDC_EMAIL_VERIFIED_CLAIM = env_str("OIDC_EMAIL_VERIFIED_CLAIM", "email_verified")
    if OIDC_EMAIL_VERIFIED_CLAIM.lower() == "none":
        OIDC_EMAIL_VERIFIED_CLAIM = None
    # Site admins (superusers) and staff are matched by the email claim like anyone else, so
    # whoever controls that claim at the provider would hold the whole site: they log in with
    # a password (with OIDC_ONLY too) and are refused single sign-on unless this is true.
    OIDC_ADMINS_MAY_SSO = env_bool("OIDC_ADMINS_MAY_SSO", False)
    _oidc_client_auth = env_str("OIDC_CLIENT_AUTH_METHOD", "client_secret_post")
    if _oidc_client_auth not in {"client_secret_post", "client_secret_basic"}:
        raise ImproperlyConfigured(
            "OIDC_CLIENT_AUTH_METHOD must be client_secret_post or client_secret_basic, "
            f"not {_oidc_client_auth!r}."
        )
    OIDC_TOKEN_USE_BASIC_AUTH = _oidc_client_auth == "client_secret_basic"
    OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1)
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_URI")
    OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_END_SESSION_ENDPOINT")
    # mozilla-django-oidc: state, nonce and PKCE on every sign-in, never a new account.
    OIDC_USE_NONCE = True
    OIDC_USE_PKCE = True
    OIDC_CREATE_USER = False
    OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
    # After axes and the password backend, so that a password login never reaches it.
    AUTHENTICATION_BACKENDS.append("people.sso.SignInBackend")
    if OIDC_ONLY:
        AUTHENTICATION_BACKENDS[
            AUTHENTICATION_BACKENDS.index("django.contrib.auth.backends.ModelBackend")
        ] = "people.sso.PasswordBackend"
    TEMPLATES[0]["OPTIONS"]["context_processors"].append("people.sso.sign_in_options")

# --- SCIM 2.0 provisioning: the block belongs to the scim app -------------------------
# /scim/v2/ for identity providers (Okta, Microsoft Entra ID). Each provider gets its own
# bearer token, made by a site admin in the Django admin (SCIM clients); only its hash is
# stored. People change through the same directory service as the HR import.
INSTALLED_APPS += ["scim"]
