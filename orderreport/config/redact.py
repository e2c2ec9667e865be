"""Redaction, all of it: how a connection string is shown, how a message loses its secrets.

One entry point, scrub(), serves stderr and the run log alike. Secrets are the connection
string's password and secret parameters (is_secret) and every value registered with
add_secret (a webhook URL, say). Nothing here prints or raises for bad input.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

from orderreport.config import urls
from orderreport.errors import UsageError

MASK = "***"
UNPARSEABLE = "<database URL>"  # what mask_url shows for text that is not a valid URL
# scrub(): a password at least this long is removed wherever it appears in a message; a
# shorter one only in credential positions, where it cannot be an ordinary word
SCRUB_ANYWHERE_MIN = 8
# secret parameter names: libpq's own "*" keywords (password, sslpassword,
# oauth_client_secret), scram_client_key, a token or api_key of some other tool's URL
_SECRET_NAME = re.compile(r"pass|secret|token|key$", re.IGNORECASE)

_registered: dict[str, str] = {}  # secret -> what to show instead (add_secret)


def is_secret(name: str) -> bool:
    """True for a connection parameter whose value must never be shown: any name containing
    "pass", "secret" or "token" or ending in "key", which takes in libpq's secret keywords
    (password, sslpassword, oauth_client_secret); sslkey and passfile are paths, masked anyway."""
    return _SECRET_NAME.search(name) is not None


def add_secret(secret: str, shown: str) -> None:
    """A value never to show whole (a webhook URL): every scrubbed message shows `shown`."""
    if secret:
        _registered[secret] = shown


def reset() -> None:
    """Forget the registered secrets (main() may run several times in one process: tests)."""
    _registered.clear()


def _params(conninfo: str | None) -> dict[str, str] | None:
    """The libpq keywords of `conninfo` as orderreport reads it, None if it reads as none."""
    if not conninfo:
        return None

    try:
        return urls.parse(conninfo, "database URL")
    except UsageError:
        return None


def mask_url(conninfo: str) -> str:
    """The connection string for humans: password and secret parameters as ***, rebuilt from
    what it says (urls.render, scheme postgresql+psycopg as the README shows it). Text that is
    not a valid database URL gives UNPARSEABLE, since any part of it might be a password."""

    params = _params(conninfo)
    if params is None:
        return UNPARSEABLE
    shown = {k: MASK if is_secret(k) else v for k, v in params.items()}
    return urls.render(shown, scheme=urls.DISPLAY_SCHEME)


# scrub()'s patterns, compiled at its first call (a run that says nothing never needs them)
_USERINFO = r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/]*@"
_QUOTED_VALUE = r"'(?:[^'\\]|\\.)*(?:'|$)|\"(?:[^\"\\]|\\.)*(?:\"|$)"
_QUERY_PARAM = r"(?<=[?&])([A-Za-z_][A-Za-z0-9_]*)(=)([^&\s]+)"
_ASSIGNMENT = (
    r"(?<![\w?&])([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(" + _QUOTED_VALUE + r"|(?:\\.|[^\s\\])+)"
)
_MAPPING = r"([\"'])([A-Za-z_][A-Za-z0-9_]*)\1(\s*:\s*)(" + _QUOTED_VALUE + r"|[^\s,}\]]+)"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    return (
        re.compile(_USERINFO),
        re.compile(_QUERY_PARAM),
        re.compile(_ASSIGNMENT, re.DOTALL),
        re.compile(_MAPPING, re.DOTALL),
    )


def scrub(message: str, conninfo: str | None = None) -> str:
    """`message` (ours, or text from psycopg, libpq, a library) with every secret taken out.

    The rule, applied in this order:
    0. every value registered with add_secret becomes what it was registered to show;
    1. every full rendering of `conninfo` with its secrets — as given, and as urls.render
       writes it under the schemes postgresql+psycopg, postgresql and postgres — becomes
       mask_url(conninfo);
    2. in any URL-shaped text `scheme://user:SECRET@`, SECRET becomes *** whatever it is; it
       runs to the last `@` before white space or `/`, so an unencoded `@` in it is covered;
    3. the value of every secret parameter (is_secret) becomes ***, whatever it is: in a URL
       query `?name=value` / `&name=value` (the value runs to the next `&` or white space),
       in libpq conninfo `name=value` / `name = 'quoted \\' value'` (an unquoted value runs
       to the next white space) and in `'name': 'value'` / `"name": "v"` (reprs, JSON);
    4. the password and secret parameter values of `conninfo`, as written and
       percent-encoded, become *** anywhere, but only those of at least SCRUB_ANYWHERE_MIN
       characters.
    So a short password such as `pw` is removed only where it is a credential: "rel_pw",
    "relpw" and "password authentication failed" stay as they are.
    """
    for secret, shown in _registered.items():
        message = message.replace(secret, shown)
    params = _params(conninfo)
    secrets = [v for k, v in (params or {}).items() if v and is_secret(k)]
    if conninfo and params and secrets:
        masked = mask_url(conninfo)
        forms = {conninfo} | {
            urls.render(params, scheme=s) for s in (urls.DISPLAY_SCHEME, "postgresql", "postgres")
        }
        for form in sorted(forms - {masked}, key=len, reverse=True):
            message = message.replace(form, masked)
    userinfo, query_param, assignment, mapping = _patterns()
    message = userinfo.sub(lambda m: f"{m.group(1)}{MASK}@", message)
    message = query_param.sub(_mask_assignment, message)
    message = assignment.sub(_mask_assignment, message)
    message = mapping.sub(_mask_mapping, message)
    for secret in secrets:
        if len(secret) >= SCRUB_ANYWHERE_MIN:
            for form in {secret, quote(secret, safe=""), quote(secret, safe=" +")}:
                message = message.replace(form, MASK)
    return message


def _masked_value(value: str) -> str:
    return f"{value[0]}{MASK}{value[0]}" if value[0] in "'\"" else MASK


def _mask_assignment(m: re.Match[str]) -> str:
    if not is_secret(m.group(1)):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{_masked_value(m.group(3))}"


def _mask_mapping(m: re.Match[str]) -> str:
    if not is_secret(m.group(2)):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{_masked_value(m.group(4))}"
