"""Database URLs: parse them, show them without secrets, scrub library messages; `options`.

URLs are read the way libpq reads postgresql:// URIs (percent-decoding everywhere, `+` is a
plus sign, the last value of a repeated parameter wins, query parameters override the parts
before them), with the differences listed in parse_database_url. Nothing here prints: bad
input raises UsageError with one line that names where the URL came from and never quotes it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from orderreport.errors import UsageError
from orderreport.redact import MASK, excerpt, is_secret

if TYPE_CHECKING:  # psycopg and SQLAlchemy are imported where a URL is parsed, not by --help
    from sqlalchemy.engine import URL

DRIVERNAME = "postgresql+psycopg"  # whatever driver a URL names, orderreport speaks psycopg 3
SCHEME = "postgresql"  # what normalize() writes: libpq's own scheme
DISPLAY_SCHEME = "postgresql+psycopg"  # what redact.mask_url shows (README)
EXAMPLE = "postgresql://user:password@host:port/dbname"

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})")
_PORT = re.compile(r"[0-9]{1,5}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_SETTING = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)
_HEX = frozenset("0123456789abcdefABCDEF")
_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale, as the server splits options


# -- parsing --------------------------------------------------------------------------------
@cache
def _libpq_keywords() -> frozenset[str]:
    """The connection keywords of the libpq that psycopg loaded (its version decides)."""
    from psycopg import pq

    return frozenset(opt.keyword.decode() for opt in pq.Conninfo.get_defaults())


def parse_database_url(raw: str, source: str) -> URL:
    """Parse a PostgreSQL URL into a SQLAlchemy URL with drivername postgresql+psycopg.

    Accepts postgresql://, postgres:// and postgresql+<any driver>:// (scheme in any case).
    Query parameters may be libpq connection keywords only (checked against the libpq in use),
    plus `ssl=true`, libpq's URI alias for sslmode=require. `user`, `password` and `dbname`
    parameters are moved into the URL's fields, overriding the parts before them as in libpq.
    One TCP host and port stay in URL.host/URL.port; several hosts (`h1:5432,h2:5433` or
    `?host=h1,h2&port=5432,5433`) or a socket directory (`?host=/run/postgresql`) go to the
    query as `host` and `port` in libpq's comma form, which SQLAlchemy passes on as such.

    Differs from libpq where libpq would misread the URL:
    - the user info ends at the LAST `@` before the first `/`: an unencoded `@` in a
      password or user name is taken as part of it (libpq stops at the first `@` and makes the
      rest of the password part of the host name);
    - a password with an unencoded `/` cannot be told apart from the database path, so an
      `@` after the host is rejected (write `/` as %2F, `@` in a database name as %40);
    - spaces inside the user, password and database name are accepted (libpq rejects them);
    - a query value may contain unencoded `=` (libpq rejects it), empty `&&` are skipped.
    Also rejected: ports that are not 1..65535, host names that are not names, IP addresses
    or socket directories, a port count that is neither 1 nor the host count, bad
    percent-encoding, unprintable characters, white space around the URL.

    Raises UsageError: one line starting with `source`, never quoting the value (at most a
    bad scheme, cut to 20 characters, or a parameter name that cannot be the password).
    """
    if not raw:
        raise UsageError(f"{source}: the database URL is empty")
    _check_text(raw, source)
    scheme = _SCHEME.match(raw)
    if scheme is None:
        raise UsageError(f"{source}: not a database URL (expected {EXAMPLE})")
    backend, plus, driver = scheme.group(1).lower().partition("+")
    if backend not in ("postgresql", "postgres") or (plus and not _IDENTIFIER.fullmatch(driver)):
        raise UsageError(
            f"{source}: not a PostgreSQL URL: the scheme is "
            f"{excerpt(scheme.group(1), 20)}, expected postgresql://"
        )
    rest = raw[scheme.end() :]

    username = password = None
    slash = rest.find("/")
    at = (rest if slash < 0 else rest[:slash]).rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        name, colon, secret = userinfo.partition(":")
        username = _decode(name, "user name", source) or None
        password = _decode(secret, "password", source) or None if colon else None

    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    hosts, ports = _split_hosts(rest[:end], source)
    rest = rest[end:]
    path, _, query = rest.partition("?")
    if "@" in path:
        raise UsageError(
            f"{source}: an '@' after the host: write a '/' in the password as %2F "
            "(and an '@' in the database name as %40)"
        )
    database = _decode(path[1:], "database name", source) or None

    # A password with an unencoded "/" and "?" spills into the query when its "@" lands there:
    # then no name from the query is quoted, nor any name containing the password.
    spilled = at < 0 and "@" in query
    params: dict[str, str] = {}
    for piece in query.split("&") if query else ():
        if not piece:
            continue
        raw_key, eq, raw_value = piece.partition("=")
        key = _decode(raw_key, "name of a URL parameter", source)
        named = _name(key, spilled or bool(password and password in key))
        if not eq:
            raise UsageError(f"{source}: URL parameter {named} has no value (expected name=value)")
        value = _decode(raw_value, f"value of URL parameter {named}", source)
        if key == "ssl":
            if value != "true":
                raise UsageError(
                    f"{source}: URL parameter 'ssl' takes only 'true' (or use sslmode)"
                )
            key, value = "sslmode", "require"
        elif key not in _libpq_keywords():
            raise UsageError(f"{source}: unknown connection option {named} in the URL")
        if key == "user":
            username = value or None
        elif key == "password":
            password = value or None
        elif key == "dbname":
            database = value or None
        elif key == "host":
            hosts = value.split(",")
        elif key == "port":
            ports = value.split(",")
        else:
            params[key] = value  # libpq: the last one wins

    for host in hosts:
        _check_host(host, source)
    for port in ports:
        if port and not (_PORT.fullmatch(port) and 1 <= int(port) <= 65535):
            raise UsageError(f"{source}: the port is not a number from 1 to 65535")
    if len(ports) > 1 and len(ports) != max(len(hosts), 1):
        raise UsageError(
            f"{source}: {len(ports)} ports for {max(len(hosts), 1)} host(s) "
            "(give one port, or one per host)"
        )
    if "options" in params:
        option_settings(params["options"], f"{source}: options in the URL")

    query_out: dict[str, str] = {}
    host_out: str | None = None
    port_out: int | None = None
    if len(hosts) <= 1 and len(ports) <= 1 and not (hosts and _is_socket(hosts[0])):
        host_out = hosts[0] or None if hosts else None
        port_out = int(ports[0]) if ports and ports[0] else None
    else:
        query_out["host"] = ",".join(hosts)
        if len(ports) == 1 and len(hosts) > 1:
            # libpq and psycopg use a lone port for every host; SQLAlchemy wants one per host
            ports = ports * len(hosts)
        if any(ports):
            query_out["port"] = ",".join(ports)
    query_out.update(params)
    from sqlalchemy.engine import URL

    return URL.create(
        DRIVERNAME,
        username=username,
        password=password,
        host=host_out,
        port=port_out,
        database=database,
        query=query_out,
    )


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


def _decode(text: str, part: str, source: str) -> str:
    """Percent-decode `text` as libpq does (UTF-8; %00 is refused)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] != "%":
            out += text[i].encode()
            i += 1
            continue
        pair = text[i + 1 : i + 3]
        if len(pair) != 2 or not set(pair) <= _HEX:
            raise UsageError(
                f"{source}: bad percent-encoding in the {part} "
                "('%' must be followed by two hex digits; write '%' itself as %25)"
            )
        if pair == "00":
            raise UsageError(f"{source}: %00 is not allowed in the {part}")
        out.append(int(pair, 16))
        i += 3
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise UsageError(f"{source}: the {part} is percent-encoded but not UTF-8") from None


def _name(key: str, hide: bool) -> str:
    """A parameter name for a message: quoted if it looks like a name and may be shown."""
    if hide or not _IDENTIFIER.fullmatch(key):
        return "(a name that is not a keyword)"
    return f"'{key}'"


def _split_hosts(text: str, source: str) -> tuple[list[str], list[str]]:
    """`h1:p1,[::1]:p2,...` → hosts and ports, percent-decoded; empty text → no hosts."""
    if not text:
        return [], []
    hosts, ports = [], []
    for item in text.split(","):
        if item.startswith("["):
            close = item.find("]")
            if close < 0:
                raise UsageError(f"{source}: an IPv6 address in the URL lacks its ']'")
            host, after = item[1:close], item[close + 1 :]
            if not host:
                raise UsageError(f"{source}: an empty IPv6 address '[]' in the URL")
            if after and not after.startswith(":"):
                raise UsageError(f"{source}: unexpected text after an IPv6 address in the URL")
            port = after[1:]
        else:
            host, _, port = item.partition(":")
        hosts.append(_decode(host, "host", source))
        ports.append(_decode(port, "port", source))
    if not any(ports):
        ports = []
    return hosts, ports


def _is_socket(host: str) -> bool:
    # libpq: an absolute path is a socket directory, a leading "@" Linux's abstract namespace
    return host.startswith(("/", "@"))


def _check_host(host: str, source: str) -> None:
    if not host or _is_socket(host) or _HOSTNAME.fullmatch(host):
        return
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
            return
        except ValueError:
            pass
    raise UsageError(
        f"{source}: a host in the URL is not a host name, an IP address or a socket directory"
    )


# -- showing --------------------------------------------------------------------------------
def render_url(url: URL, *, hide_secrets: bool = True) -> str:
    """The URL as text that parse_database_url (and libpq, but for the driver) reads back.

    With hide_secrets (the default) the password and every secret parameter (is_secret)
    read ***; without, the text holds them: only for a connection, never for a message.
    """
    out = [f"{url.drivername}://"]
    if url.username is not None or url.password is not None:
        out.append(quote(url.username or "", safe=""))
        if url.password is not None:
            out.append(":" + (MASK if hide_secrets else quote(str(url.password), safe="")))
        out.append("@")
    if url.host:
        out.append(f"[{url.host}]" if ":" in url.host else quote(url.host, safe=""))
    if url.port is not None:
        out.append(f":{url.port}")
    # always a "/" before the query, so an "@" in a query value is never read as user info
    out.append("/" + quote(url.database or "", safe=""))
    pairs = []
    for key, value in url.query.items():
        for item in (value,) if isinstance(value, str) else value:
            shown = MASK if hide_secrets and is_secret(key) else quote(item, safe="/,:")
            pairs.append(f"{quote(key, safe='')}={shown}")
    if pairs:
        out.append("?" + "&".join(pairs))
    return "".join(out)


def parse(raw: str, source: str) -> dict[str, str]:
    """The libpq keywords `raw` sets, as orderreport reads it (parse_database_url): host and
    port first, then user, password, dbname, then the other parameters. Raises UsageError."""
    url = parse_database_url(raw, source)
    params: dict[str, str] = {}
    query = {k: v if isinstance(v, str) else ",".join(v) for k, v in url.query.items()}
    if url.host:
        params["host"] = url.host
    elif "host" in query:
        params["host"] = query.pop("host")
    if url.port is not None:
        params["port"] = str(url.port)
    elif "port" in query:
        params["port"] = query.pop("port")
    for key, value in (("user", url.username), ("password", url.password)):
        if value is not None:
            params[key] = str(value)
    if url.database is not None:
        params["dbname"] = url.database
    params.update(query)
    return params


def render(params: dict[str, str], scheme: str = SCHEME) -> str:
    """`params` as a URI that parse (and libpq, under SCHEME) reads back as `params`.

    One TCP host goes before the path; several hosts or a socket directory go to the query
    as `host` and `port`. Values are written as given: redact.mask_url passes *** for secrets.
    """
    rest = dict(params)
    user, password, dbname = (
        rest.pop("user", None),
        rest.pop("password", None),
        rest.pop("dbname", None),
    )
    out = [f"{scheme}://"]
    if user is not None or password is not None:
        out.append(quote(user or "", safe="*"))
        if password is not None:
            out.append(":" + quote(password, safe="*"))
        out.append("@")
    host, port = rest.get("host", ""), rest.get("port", "")
    if "," not in host + port and not host.startswith(("/", "@")):
        rest.pop("host", None)
        rest.pop("port", None)
        out.append(f"[{host}]" if ":" in host else quote(host, safe=""))
        out.append(f":{port}" if port else "")
    # always a "/" before the query, so an "@" in a query value is never read as user info
    out.append("/" + quote(dbname or "", safe=""))
    if rest:
        out.append(
            "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='/,:*')}" for k, v in rest.items())
        )
    return "".join(out)


def normalize(raw: str, source: str) -> str:
    """`raw` as the postgresql:// URI psycopg.connect takes (parse, then render)."""
    return render(parse(raw, source))


# -- options --------------------------------------------------------------------------------
def split_options(options: str) -> list[str]:
    """The words the server makes of an `options` string (PostgreSQL's pg_split_opts): white
    space separates them; a backslash makes the next character literal, so `\\ ` is a space
    within a word and `\\\\` a backslash; a lone backslash at the very end is dropped."""
    words: list[str] = []
    word: list[str] | None = None
    escaped = False
    for ch in options:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
            word = word if word is not None else []
            continue
        elif ch in _C_SPACE:
            if word is not None:
                words.append("".join(word))
                word = None
            continue
        word = word if word is not None else []
        word.append(ch)
    if word is not None:
        words.append("".join(word))
    return words


def _join_options(words: Iterable[str]) -> str:
    return " ".join(re.sub(r"([\\ \t\n\v\f\r])", r"\\\1", w) for w in words)


def _settings(words: list[str]) -> list[tuple[str, str]]:
    settings = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c":
            if i + 1 == len(words):
                raise ValueError("'-c' at the end without a setting")
            setting, i = words[i + 1], i + 2
        elif word.startswith(("--", "-c")):
            setting, i = word[2:], i + 1
        else:
            raise ValueError(f"expected '-c name=value' or '--name=value', not {excerpt(word)}")
        m = _SETTING.fullmatch(setting)
        if m is None:
            raise ValueError(f"expected name=value after -c or --, not {excerpt(setting)}")
        settings.append((m.group(1), m.group(2)))
    return settings


def option_settings(options: str, source: str) -> list[tuple[str, str]]:
    """The (name, value) settings an `options` string makes, in the order the server applies
    them (left to right: for a name set twice, the later value is the one in force).

    Accepts the forms PostgreSQL documents, `-c name=value`, `-cname=value`, `--name=value`;
    raises UsageError starting with `source` for anything else. Names are as written (the
    server ignores their case and reads `-` as `_`).
    """
    try:
        return _settings(split_options(options))
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None


def merge_options(*parts: str | None) -> str:
    """One `options` string doing what `parts` do, in order: later parts win for the same
    setting, because the server applies settings left to right. Words are re-escaped so a
    backslash or space inside a value stays inside it. None and empty parts are skipped.

    Each part must be well formed (option_settings); raises ValueError otherwise, since a
    part ending in a bare `-c` would swallow the next part's first setting.
    """
    words: list[str] = []
    for part in parts:
        if part:
            part_words = split_options(part)
            _settings(part_words)
            words.extend(part_words)
    return _join_options(words)


def user_options(url: URL, environ: Mapping[str, str]) -> str:
    """The `options` the user asked for: the URL's `options` parameter if it has one (even
    empty), else the PGOPTIONS environment variable, else "" — libpq's own rule, which stops
    applying once orderreport passes `options` itself. Give it to merge_options after our
    defaults, so the user's settings win over them.

    Raises UsageError naming the URL's options or PGOPTIONS when it is not well formed.
    """
    value = url.query.get("options")
    if value is not None:
        text = value if isinstance(value, str) else (value[-1] if value else "")
        source = "options in the database URL"
    else:
        text, source = environ.get("PGOPTIONS", ""), "PGOPTIONS"
    option_settings(text, source)
    return merge_options(text)
