"""Database URLs: libpq reads them (psycopg.conninfo.conninfo_to_dict); this module adds
what orderreport promises on top, and writes the result back as one postgresql:// URI.

What is added to libpq's reading:
- `postgresql+<driver>://` (SQLAlchemy's spelling, any driver) and any case of the scheme
  are accepted: whatever driver a URL names, orderreport speaks psycopg 3 to libpq;
- the user info ends at the LAST `@` before the first `/`, so an unencoded `@` in a
  password stays in it (libpq would make the rest of the password part of the host name,
  and then print it in "could not translate host name");
- an `@` after the host is refused: it means a password with an unencoded `/`;
- spaces in the user, password and database name, an unencoded `=` in a query value and
  empty `&&` are accepted (libpq refuses them);
- ports must be 1..65535 and one per host (or one for all), hosts must be host names, IP
  addresses or socket directories: libpq would find out only when connecting.
Errors are UsageError, one line starting with where the URL came from, and never quote a
value: libpq's own messages do (a password in "invalid percent-encoded token"), so none is
passed on. Key=value conninfo strings are refused, as they always were.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import quote, unquote

from orderreport.errors import UsageError, excerpt

SCHEME = "postgresql"  # what normalize() writes: libpq's own scheme
DISPLAY_SCHEME = "postgresql+psycopg"  # what redact.mask_url shows (README)
EXAMPLE = "postgresql://user:password@host:port/dbname"
FIRST = ("host", "port", "user", "password", "dbname")  # in a URL's order, before the query

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})")
_PORT = re.compile(r"[0-9]{1,5}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# libpq's URI errors that can still happen once the text is ours, reworded without a value
_LIBPQ_ERRORS = (
    ("end of string reached when looking for", "an IPv6 address in the URL lacks its ']'"),
    ("IPv6 host address may not be empty", "an empty IPv6 address '[]' in the URL"),
    ("unexpected character", "unexpected text after an IPv6 address in the URL"),
)
_UNKNOWN = re.compile(r'invalid URI query parameter: "(.*)"', re.DOTALL)


def parse(raw: str, source: str) -> dict[str, str]:
    """parsed(raw, source), a copy: the URL is read once a process (load_settings, the
    connect, every masked message), whatever asks for it."""
    return dict(_parsed(raw, source))


@functools.lru_cache(maxsize=8)
def _parsed(raw: str, source: str) -> dict[str, str]:
    """The libpq connection keywords `raw` sets, read by libpq with the additions above:
    host, port, user, password and dbname first, then the query's parameters in its order
    (libpq's rules: the last of a repeated one wins, query values override the parts before
    them, `ssl=true` is sslmode=require). Empty user, password and dbname are left out.

    Raises UsageError: one line starting with `source`, never quoting the value (at most a
    bad scheme, cut to 20 characters, or a parameter name that cannot be the password).
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    text, names, hidden = _libpq_text(raw, source)
    try:
        found = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except ProgrammingError as exc:
        raise UsageError(f"{source}: {_reason(str(exc), hidden)}") from None
    _check_hosts(found.get("host"), found.get("port"), source)
    order = [*FIRST, *("sslmode" if n == "ssl" else n for n in names)]
    out = {k: found[k] for k in dict.fromkeys([*order, *found]) if k in found}
    return {k: v for k, v in out.items() if v or k not in ("user", "password", "dbname")}


def render(params: dict[str, str], scheme: str = SCHEME) -> str:
    """`params` as a URI that parse and libpq read back as `params` (SQLAlchemy's make_url
    too). One TCP host goes before the path; several hosts or a socket directory go to the
    query as `host` and `port`. Values are written as given: redact.mask_url passes ***."""
    rest = dict(params)
    user, password = rest.pop("user", None), rest.pop("password", None)
    out = [f"{scheme}://"]
    if user is not None or password is not None:
        out.append(quote(user or "", safe="*"))
        out.append("" if password is None else ":" + quote(password, safe="*"))
        out.append("@")
    host, port = rest.get("host", ""), rest.get("port", "")
    if "," not in host + port and not host.startswith(("/", "@")):
        rest.pop("host", None)
        rest.pop("port", None)
        out.append(f"[{quote(host, safe=':')}]" if ":" in host else quote(host, safe=""))
        out.append(f":{port}" if port else "")
    # always a "/" before the query, so an "@" in a query value is never read as user info
    out.append("/" + quote(rest.pop("dbname", ""), safe=""))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='/,:*')}" for k, v in rest.items())
    return "".join(out) + (f"?{query}" if query else "")


def normalize(raw: str, source: str) -> str:
    """`raw` as the postgresql:// URI psycopg.connect takes (parse, then render)."""
    return render(parse(raw, source))


def _libpq_text(raw: str, source: str) -> tuple[str, list[str], str]:
    """`raw` made into a URI that libpq reads as orderreport does; the query's names in order;
    and the text no name quoted in a message may overlap (the password, or the whole query
    when a password spilled into it). Checks here what libpq would complain about quoting
    the value: white space, percent-encoding, `=` separators."""
    if not raw:
        raise UsageError(f"{source}: the database URL is empty")
    _check_text(raw, source)
    scheme = _SCHEME.match(raw)
    if scheme is None:
        raise UsageError(f"{source}: not a database URL (expected {EXAMPLE})")
    backend, plus, driver = scheme.group(1).lower().partition("+")
    if backend not in ("postgresql", "postgres") or (plus and not _IDENTIFIER.fullmatch(driver)):
        shown = excerpt(scheme.group(1), 20)
        raise UsageError(
            f"{source}: not a PostgreSQL URL: the scheme is {shown}, expected {SCHEME}://"
        )
    rest = raw[scheme.end() :]
    slash = rest.find("/")
    at = (rest if slash < 0 else rest[:slash]).rfind("@")
    userinfo, rest = (rest[:at], rest[at + 1 :]) if at >= 0 else ("", rest)
    name, colon, password = userinfo.partition(":")
    _check_escapes(name, "user name", source)
    _check_escapes(password, "password", source)
    out = [f"{SCHEME}://"]
    if at >= 0:
        out.append(f"{_encode(name, '@')}{colon}{_encode(password, '@')}@")
    before, question, query = rest.partition("?")
    hosts, _, path = before.partition("/")
    _check_escapes(hosts, "host", source)
    if "@" in path:
        raise UsageError(
            f"{source}: an '@' after the host: write a '/' in the password as %2F "
            "(and an '@' in the database name as %40)"
        )
    _check_escapes(path, "database name", source)
    out.append(_encode(hosts, "") + ("/" + _encode(path, "") if "/" in before else ""))
    # A password with an unencoded "/" and "?" spills into the query when its "@" lands there:
    # then no name from the query is quoted, nor one containing (or in) the password.
    hidden = unquote(query if at < 0 and "@" in query else password)
    names, pairs = [], []
    for piece in filter(None, query.split("&")):
        key, eq, value = piece.partition("=")
        _check_escapes(key, "name of a URL parameter", source)
        shown = _name(unquote(key), hidden)
        if not eq:
            raise UsageError(f"{source}: URL parameter {shown} has no value (expected name=value)")
        _check_escapes(value, f"value of URL parameter {shown}", source)
        names.append(unquote(key))
        pairs.append(f"{_encode(key, '')}={_encode(value, '=')}")
    out.append(question + "&".join(pairs) if pairs else "")
    return "".join(out), names, hidden


def _encode(text: str, chars: str) -> str:
    """`text` with spaces and `chars` percent-encoded (libpq would refuse or misread them)."""
    for ch in " " + chars:
        text = text.replace(ch, quote(ch, safe=""))
    return text


def _check_text(raw: str, source: str) -> None:
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{source}: the database URL is not valid UTF-8 text") from None
    if raw != raw.strip():
        raise UsageError(f"{source}: the database URL starts or ends with white space")
    for i, ch in enumerate(raw):
        if not ch.isprintable() and ch != " ":
            raise UsageError(
                f"{source}: the database URL has an unprintable character at position {i + 1}"
            )


def _check_escapes(text: str, part: str, source: str) -> None:
    """Percent-encoding as libpq decodes it (UTF-8; %00 refused), with our wording."""
    if _BAD_ESCAPE.search(text):
        raise UsageError(
            f"{source}: bad percent-encoding in the {part} "
            "('%' must be followed by two hex digits; write '%' itself as %25)"
        )
    if "%00" in text:
        raise UsageError(f"{source}: %00 is not allowed in the {part}")
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise UsageError(f"{source}: the {part} is percent-encoded but not UTF-8") from None


def _name(key: str, hidden: str) -> str:
    """A parameter name for a message: quoted if it looks like a name and may be shown."""
    if not _IDENTIFIER.fullmatch(key) or (hidden and (hidden in key or key in hidden)):
        return "(a name that is not a keyword)"
    return f"'{key}'"


def _reason(message: str, hidden: str) -> str:
    """libpq's complaint about a URL, in our words and without any value of the URL's."""
    unknown = _UNKNOWN.match(message)
    if unknown and unknown.group(1) == "ssl":
        return "URL parameter 'ssl' takes only 'true' (or use sslmode)"
    if unknown:
        return f"unknown connection option {_name(unknown.group(1), hidden)} in the URL"
    for prefix, reason in _LIBPQ_ERRORS:
        if message.startswith(prefix):
            return reason
    return f"libpq cannot read the database URL (expected {EXAMPLE})"


def _check_hosts(host: str | None, port: str | None, source: str) -> None:
    hosts = host.split(",") if host is not None else []
    ports = port.split(",") if port is not None else []
    for name in hosts:
        if name and not name.startswith(("/", "@")) and not _HOSTNAME.fullmatch(name):
            try:
                ipaddress.IPv6Address(name)
            except ValueError:
                raise UsageError(
                    f"{source}: a host in the URL is not a host name, an IP address or a "
                    "socket directory"
                ) from None
    for number in ports:
        if number and not (_PORT.fullmatch(number) and 1 <= int(number) <= 65535):
            raise UsageError(f"{source}: the port is not a number from 1 to 65535")
    if len(ports) > 1 and len(ports) != max(len(hosts), 1):
        raise UsageError(
            f"{source}: {len(ports)} ports for {max(len(hosts), 1)} host(s) "
            "(give one port, or one per host)"
        )
