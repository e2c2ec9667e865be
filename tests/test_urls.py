"""Database URLs: parsing as libpq does, masking by structure, scrubbing messages, `options`.

Pure parsing: no server. Where a test states what libpq does, it asks the libpq that psycopg
loaded (conninfo_to_dict, PQconnectStart's effective options) rather than trusting a comment.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from orderreport import redact
from orderreport.errors import UsageError
from orderreport.redact import UNPARSEABLE, excerpt
from orderreport.redact import is_secret as is_secret_option
from orderreport.urls import (
    merge_options,
    option_settings,
    parse_database_url,
    render_url,
    split_options,
    user_options,
)

SOURCE = "--database-url"


def text(url: URL | str) -> str:
    if isinstance(url, str):
        return url
    return render_url(url.set(drivername="postgresql"), hide_secrets=False)


def mask_url(url: URL | str) -> str:
    return redact.mask_url(text(url))


def scrub(message: str, url: URL | None) -> str:
    return redact.scrub(message, text(url) if url else None)


def parse(raw: str) -> URL:
    return parse_database_url(raw, SOURCE)


def usage_error(raw: str, source: str = SOURCE) -> str:
    with pytest.raises(UsageError) as info:
        parse_database_url(raw, source)
    return str(info.value)


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


# -- the defects, with the inputs that showed them ------------------------------------------
PW_PARAM = "postgresql://rel:pw@localhost:5432/rel_pw?password=S3cr3t-Pw_xyz"
AT_IN_PW = "postgresql://u:p@ssHunter2Secret@host/db"
SHORT_PW = "postgresql://relpw:pw@localhost:5432/rel_pw"


def test_password_query_parameter_is_masked() -> None:
    url = parse(PW_PARAM)
    assert url.password == "S3cr3t-Pw_xyz"  # libpq: the query parameter overrides "pw"
    assert mask_url(url) == "postgresql+psycopg://rel:***@localhost:5432/rel_pw"
    assert mask_url(PW_PARAM) == "postgresql+psycopg://rel:***@localhost:5432/rel_pw"
    message = f"cannot connect to {PW_PARAM}: timeout"
    assert_clean(scrub(message, url), "S3cr3t", "Pw_xyz")
    assert_clean(scrub(message, None), "S3cr3t", "Pw_xyz")


def test_unencoded_at_in_password_stays_in_the_password() -> None:
    url = parse(AT_IN_PW)
    assert (url.username, url.password, url.host, url.database) == (
        "u",
        "p@ssHunter2Secret",
        "host",
        "db",
    )
    assert mask_url(url) == "postgresql+psycopg://u:***@host/db"
    assert mask_url(AT_IN_PW) == "postgresql+psycopg://u:***@host/db"
    for message in (
        f"cannot connect to {AT_IN_PW}",
        f"cannot connect to {url.render_as_string(hide_password=False)}",
        f"cannot connect to {render_url(url, hide_secrets=False)}",
    ):
        assert_clean(scrub(message, url), "ssHunter2Secret", "Hunter2")


def test_libpq_itself_splits_at_the_first_at() -> None:
    # why parse_database_url differs from libpq here: libpq makes the rest of the password
    # part of the host name, which then shows up in "could not translate host name" errors
    assert conninfo_to_dict(AT_IN_PW) == {
        "user": "u",
        "password": "p",
        "host": "ssHunter2Secret@host",
        "dbname": "db",
    }


def test_short_password_leaves_other_words_alone() -> None:
    url = parse(SHORT_PW)
    assert mask_url(url) == "postgresql+psycopg://relpw:***@localhost:5432/rel_pw"
    message = (
        f"cannot connect to {url.render_as_string(hide_password=False)}: connection to server "
        'at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user '
        '"relpw" (conninfo: user=relpw password=pw dbname=rel_pw)'
    )
    assert scrub(message, url) == (
        "cannot connect to postgresql+psycopg://relpw:***@localhost:5432/rel_pw: connection to "
        'server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for '
        'user "relpw" (conninfo: user=relpw password=*** dbname=rel_pw)'
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "postgresql://u:Hunter2pw@host:abc/db",
            "--database-url: the port is not a number from 1 to 65535",
        ),
        (
            "postgresql://u:Hunter2pw@host/db?bogus=1",
            "--database-url: unknown connection option 'bogus' in the URL",
        ),
        (
            "a" * 100_000 + "://u:Hunter2pw@host/db",
            "--database-url: not a PostgreSQL URL: the scheme is "
            "'aaaaaaaaaaaaaaaaaaaa…' (100000 characters), expected postgresql://",
        ),
    ],
)
def test_defects_give_one_short_line(raw: str, message: str) -> None:
    assert usage_error(raw) == message


# -- errors: one line, naming the source, never the value -----------------------------------
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "the database URL is empty"),
        (" postgresql://u:Hunter2pw@h/db", "the database URL starts or ends with white space"),
        ("postgresql://u:Hunter2pw@h/db\n", "the database URL starts or ends with white space"),
        (
            "postgresql://u:Hunter2\tpw@h/db",
            "the database URL has an unprintable character at position 23",
        ),
        (
            "host=h password=Hunter2pw",
            "not a database URL (expected postgresql://user:password@host:port/dbname)",
        ),
        (
            "u:Hunter2pw@h/db",
            "not a database URL (expected postgresql://user:password@host:port/dbname)",
        ),
        (
            "mysql://u:Hunter2pw@h/db",
            "not a PostgreSQL URL: the scheme is 'mysql', expected postgresql://",
        ),
        (
            "postgresql+my-driver://u:Hunter2pw@h/db",
            "not a PostgreSQL URL: the scheme is 'postgresql+my-driver', expected postgresql://",
        ),
        ("postgresql://u:Hunter2pw@h:0/db", "the port is not a number from 1 to 65535"),
        ("postgresql://u:Hunter2pw@h:65536/db", "the port is not a number from 1 to 65535"),
        ("postgresql://u:Hunter2pw@h:+5432/db", "the port is not a number from 1 to 65535"),
        ("postgresql://u:Hunter2pw@h/db?port=x", "the port is not a number from 1 to 65535"),
        # a "/" in the password: libpq takes "u" as host, "Hunter2" as port, "pw@h/db" as dbname
        (
            "postgresql://u:Hunter2/pw@h/db",
            "an '@' after the host: write a '/' in the password as %2F "
            "(and an '@' in the database name as %40)",
        ),
        ("postgresql://u:Hunter2/pw", "the port is not a number from 1 to 65535"),
        # ... and with a "?" after the "/", the rest of the password is in the query
        (
            "postgresql://u:12/ab?Hunter2=x@h/db",
            "unknown connection option (a name that is not a keyword) in the URL",
        ),
        (
            "postgresql://u:12/ab?Hunter2@h/db",
            "URL parameter (a name that is not a keyword) has no value (expected name=value)",
        ),
        (
            "postgresql://u:2024/Hunter2pw@h/db",
            "an '@' after the host: write a '/' in the password as %2F "
            "(and an '@' in the database name as %40)",
        ),
        (
            "postgresql://u:Hunter2pw@h/we@ird",
            "an '@' after the host: write a '/' in the password as %2F "
            "(and an '@' in the database name as %40)",
        ),
        (
            "postgresql://u:Hunter2%zzpw@h/db",
            "bad percent-encoding in the password "
            "('%' must be followed by two hex digits; write '%' itself as %25)",
        ),
        ("postgresql://u:Hunter2%00pw@h/db", "%00 is not allowed in the password"),
        ("postgresql://u:Hunter2%FFpw@h/db", "the password is percent-encoded but not UTF-8"),
        (
            "postgresql://u:Hunter2pw@h/db?Hunter2pw",
            "URL parameter (a name that is not a keyword) has no value (expected name=value)",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?sslmode",
            "URL parameter 'sslmode' has no value (expected name=value)",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?" + "x" * 50 + "=1",
            "unknown connection option (a name that is not a keyword) in the URL",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?ssl=false",
            "URL parameter 'ssl' takes only 'true' (or use sslmode)",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?sslmode=require&prepare_threshold=0",
            "unknown connection option 'prepare_threshold' in the URL",
        ),
        (
            "postgresql://u:Hunter2pw@[::1/db",
            "an IPv6 address in the URL lacks its ']'",
        ),
        ("postgresql://u:Hunter2pw@[]/db", "an empty IPv6 address '[]' in the URL"),
        (
            "postgresql://u:Hunter2pw@[::1]x/db",
            "unexpected text after an IPv6 address in the URL",
        ),
        (
            "postgresql://u:Hunter2pw@ex ample.com/db",
            "a host in the URL is not a host name, an IP address or a socket directory",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?host=a&b",
            "URL parameter 'b' has no value (expected name=value)",
        ),
        (
            "postgresql://u:Hunter2pw@h1,h2/db?port=1,2,3",
            "3 ports for 2 host(s) (give one port, or one per host)",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?options=search_path%3Dshop",
            "options in the URL: expected '-c name=value' or '--name=value', "
            "not 'search_path=shop'",
        ),
        (
            "postgresql://u:Hunter2pw@h/db?options=-c",
            "options in the URL: '-c' at the end without a setting",
        ),
    ],
)
def test_bad_urls(raw: str, message: str) -> None:
    for source in (SOURCE, "ORDERREPORT_DATABASE_URL", "config file /x: database_url"):
        text = usage_error(raw, source)
        assert text == f"{source}: {message}"
        assert "\n" not in text
        assert len(text) < 200
        assert_clean(text, "Hunter2")


# -- valid URLs ------------------------------------------------------------------------------
# raw URL, its parts (user, password, host, port, database, query), its masked form
VALID: list[tuple[str, tuple[Any, ...], str]] = [
    (
        "postgresql://shop:pw@db.example.com:5433/shop",
        ("shop", "pw", "db.example.com", 5433, "shop", {}),
        "postgresql+psycopg://shop:***@db.example.com:5433/shop",
    ),
    (
        "postgres://shop@db/shop?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem",
        (
            "shop",
            None,
            "db",
            None,
            "shop",
            {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem"},
        ),
        "postgresql+psycopg://shop@db/shop?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem",
    ),
    (
        "postgresql+asyncpg://shop:p%40ss%2Fw%3Ard@db/shop",
        ("shop", "p@ss/w:rd", "db", None, "shop", {}),
        "postgresql+psycopg://shop:***@db/shop",
    ),
    (
        "PostgreSQL+Psycopg2://shop:pa:ss?w#rd@db/shop",  # libpq: ':', '?', '#' are password
        ("shop", "pa:ss?w#rd", "db", None, "shop", {}),
        "postgresql+psycopg://shop:***@db/shop",
    ),
    (
        "postgresql://azure@srv:Hunter2pw@srv.postgres.example.com/shop",
        ("azure@srv", "Hunter2pw", "srv.postgres.example.com", None, "shop", {}),
        "postgresql+psycopg://azure%40srv:***@srv.postgres.example.com/shop",
    ),
    (
        "postgresql:///shop?host=/run/postgresql",
        (None, None, None, None, "shop", {"host": "/run/postgresql"}),
        "postgresql+psycopg:///shop?host=/run/postgresql",
    ),
    (
        "postgresql://shop@%2Frun%2Fpostgresql:5433/shop",
        ("shop", None, None, None, "shop", {"host": "/run/postgresql", "port": "5433"}),
        "postgresql+psycopg://shop@/shop?host=/run/postgresql&port=5433",
    ),
    (
        "postgresql://[::1]:5433/shop?options=-c%20search_path%3Dshop%20-c%20a%3Db%5C%20c",
        (None, None, "::1", 5433, "shop", {"options": "-c search_path=shop -c a=b\\ c"}),
        "postgresql+psycopg://[::1]:5433/shop?options=-c%20search_path%3Dshop%20-c%20a%3Db%5C%20c",
    ),
    (
        "postgresql://h1:5432,h2:5433/shop?target_session_attrs=read-write",
        (
            None,
            None,
            None,
            None,
            "shop",
            {"host": "h1,h2", "port": "5432,5433", "target_session_attrs": "read-write"},
        ),
        "postgresql+psycopg:///shop?host=h1,h2&port=5432,5433&target_session_attrs=read-write",
    ),
    (
        "postgresql:///shop?host=h1,h2&port=5432&sslpassword=k3y&application_name=a+b",
        (
            None,
            None,
            None,
            None,
            "shop",
            {"host": "h1,h2", "port": "5432,5432", "sslpassword": "k3y", "application_name": "a+b"},
        ),
        "postgresql+psycopg:///shop?host=h1,h2&port=5432,5432&sslpassword=***&application_name=a%2Bb",
    ),
    (
        "postgresql://u:pw@h/db?user=v&password=pw2&dbname=db2&host=h2&port=6000&ssl=true",
        ("v", "pw2", "h2", 6000, "db2", {"sslmode": "require"}),
        "postgresql+psycopg://v:***@h2:6000/db2?sslmode=require",
    ),
    (
        "postgresql://:5433/db?options=-c search_path=a&&sslmode=disable&sslmode=require&",
        (None, None, None, 5433, "db", {"options": "-c search_path=a", "sslmode": "require"}),
        "postgresql+psycopg://:5433/db?options=-c%20search_path%3Da&sslmode=require",
    ),
    ("postgresql://", (None, None, None, None, None, {}), "postgresql+psycopg:///"),
]
# the raw URLs libpq reads as we do (the others use what libpq rejects or misreads)
LIBPQ_SAME = [raw for raw, _, _ in VALID if not raw.startswith(("postgresql+", "PostgreSQL+"))]
LIBPQ_SAME.remove("postgresql://azure@srv:Hunter2pw@srv.postgres.example.com/shop")
LIBPQ_SAME.remove(
    "postgresql://:5433/db?options=-c search_path=a&&sslmode=disable&sslmode=require&"
)


def parts(url: URL) -> tuple[Any, ...]:
    return (url.username, url.password, url.host, url.port, url.database, dict(url.query))


@pytest.mark.parametrize(("raw", "expected", "masked"), VALID)
def test_valid_urls(raw: str, expected: tuple[Any, ...], masked: str) -> None:
    url = parse(raw)
    assert url.drivername == "postgresql+psycopg"
    assert parts(url) == expected
    assert mask_url(url) == masked
    assert mask_url(raw) == masked


@pytest.mark.parametrize(("raw", "expected", "masked"), VALID)
def test_rendered_url_reads_back_the_same(raw: str, expected: tuple[Any, ...], masked: str) -> None:
    url = parse(raw)
    assert parse(render_url(url, hide_secrets=False)) == url
    assert render_url(parse(masked)) == masked  # the masked form reads back as itself


def _as_libpq(read: dict[str, Any]) -> dict[str, str]:
    """libpq's reading with its shorthands spelled out: ports "," (none given for "h1,h2")
    are the default port for each host, one port for several hosts is that port for each."""
    params = {key: str(value) for key, value in read.items()}
    hosts = params.get("host", "").split(",")
    if set(params.get("port", "x")) <= {","}:
        del params["port"]
    elif "," not in params.get("port", ",") and len(hosts) > 1:
        params["port"] = ",".join([params["port"]] * len(hosts))
    return params


@pytest.mark.parametrize("raw", LIBPQ_SAME)
def test_psycopg_gets_what_libpq_reads_from_the_url(raw: str) -> None:
    url = parse(raw)
    _, params = create_engine(url).dialect.create_connect_args(url)
    params.pop("context", None)  # SQLAlchemy's type adapters, not a connection option
    assert conninfo_to_dict(make_conninfo("", **params)) == _as_libpq(conninfo_to_dict(raw))
    # and our rendering, under libpq's scheme, is a URL libpq reads the same way
    rendered = render_url(url.set(drivername="postgresql"), hide_secrets=False)
    assert _as_libpq(conninfo_to_dict(rendered)) == _as_libpq(conninfo_to_dict(raw))


def test_one_port_serves_every_host() -> None:
    # why parse_database_url repeats a lone port: psycopg/libpq use it for each host
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect("host=/nonexistent-1,/nonexistent-2 port=5999 dbname=x")
    assert "/nonexistent-1/.s.PGSQL.5999" in str(info.value)
    assert "/nonexistent-2/.s.PGSQL.5999" in str(info.value)


def test_every_libpq_keyword_is_accepted() -> None:
    keywords = [opt.keyword.decode() for opt in pq.Conninfo.get_defaults()]
    assert {"options", "sslmode", "target_session_attrs", "hostaddr", "passfile"} <= set(keywords)
    for key in keywords:
        if key not in ("host", "port", "user", "password", "dbname"):
            value = "-c%20a%3Db" if key == "options" else "1"
            assert key in parse(f"postgresql://h/db?{key}={value}").query


# -- masking and scrubbing -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("sslpassword", True),
        ("oauth_client_secret", True),
        ("scram_client_key", True),
        ("passfile", True),
        ("api_token", True),
        ("sslkey", True),
        ("sslmode", False),
        ("options", False),
        ("sslkeylogfile", False),
        ("user", False),
    ],
)
def test_secret_options(name: str, secret: bool) -> None:
    assert is_secret_option(name) is secret


@pytest.mark.parametrize(
    "raw", ["not a url", "postgresql://u:Hunter2pw@h/db?bogus=1", "mysql://u:Hunter2pw@h/db"]
)
def test_mask_of_unparseable_text_is_a_placeholder(raw: str) -> None:
    assert mask_url(raw) == UNPARSEABLE


LONG = "postgresql://shop:S3cr3t-Pw_xyz@db/shop?sslpassword=Cl13nt-K3y-pw"


@pytest.mark.parametrize(
    ("raw", "message", "expected"),
    [
        (  # 1: a whole rendering, ours or SQLAlchemy's, becomes the masked URL
            LONG,
            "bad: postgresql://shop:S3cr3t-Pw_xyz@db/shop?sslpassword=Cl13nt-K3y-pw (timeout)",
            "bad: postgresql+psycopg://shop:***@db/shop?sslpassword=*** (timeout)",
        ),
        (  # 2: any scheme://user:SECRET@, to the last "@"
            None,
            "see redis://u:p@ss@cache/0 and postgresql://u:x@h/d",
            "see redis://u:***@cache/0 and postgresql://u:***@h/d",
        ),
        (  # 3: conninfo, quoted with escapes, and dict reprs, whatever the password
            None,
            "host=h password='it\\'s a secret' sslpassword=k3y user=u "
            "{'password': 'x y', \"token\": \"t\"}",
            "host=h password='***' sslpassword=*** user=u {'password': '***', \"token\": \"***\"}",
        ),
        (  # 3, in a URL query: to the next "&", so a masked URL stays as it was
            None,
            "at postgresql://h/?password=S3&sslmode=require or "
            "postgresql+psycopg:///shop?sslpassword=***&application_name=a%2Bb: refused",
            "at postgresql://h/?password=***&sslmode=require or "
            "postgresql+psycopg:///shop?sslpassword=***&application_name=a%2Bb: refused",
        ),
        (  # 4: a long password anywhere, as written and percent-encoded
            "postgresql://shop:S3cr3t%2FPw_xyz@db/shop",
            "hint: S3cr3t/Pw_xyz or S3cr3t%2FPw_xyz",
            "hint: *** or ***",
        ),
        (  # a short one only as a credential
            SHORT_PW,
            "relpw: pw rel_pw password pw=1 passwd=pw postgresql://relpw:pw@localhost:5432/rel_pw",
            "relpw: pw rel_pw password pw=1 passwd=*** postgresql+psycopg://relpw:***@localhost:5432/rel_pw",
        ),
        (
            "postgresql://a:a@a/a",
            "a database a: a=a password=a user=a",
            "a database a: a=a password=*** user=a",
        ),
        (  # nothing to hide: the message is left exactly as it was
            "postgresql://shop@db/shop",
            "cannot connect to postgresql://shop@db/shop: timeout",
            "cannot connect to postgresql://shop@db/shop: timeout",
        ),
    ],
)
def test_scrub(raw: str | None, message: str, expected: str) -> None:
    assert scrub(message, parse(raw) if raw else None) == expected


# -- excerpts --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("Europe/Moscow", 40, "'Europe/Moscow'"),
        ("a" * 100_000, 4, "'aaaa…' (100000 characters)"),
        ("a" * 40, 40, "'" + "a" * 40 + "'"),
        ("a" * 41, 40, "'" + "a" * 40 + "…' (41 characters)"),
        ("tab\there\n\x1b[2J", 40, "'tab\\there\\n\\x1b[2J'"),
        ("it's \\ \u202e", 40, "'it\\'s \\\\ \\u202e'"),
        ("\n" * 30, 10, "'\\n\\n\\n\\n\\n…' (30 characters)"),
    ],
)
def test_excerpt(value: str, limit: int, expected: str) -> None:
    assert excerpt(value, limit) == expected


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("-c search_path=shop", ["-c", "search_path=shop"]),
        ("  -c\tsearch_path=shop  ", ["-c", "search_path=shop"]),
        ("-c application_name=a\\ b\\\\c", ["-c", "application_name=a b\\c"]),
        ("-c application_name=trail\\", ["-c", "application_name=trail"]),
        ("", []),
    ],
)
def test_split_options_like_the_server(options: str, words: list[str]) -> None:
    # what the server made of these (SHOW application_name) was checked on PostgreSQL
    assert split_options(options) == words


@pytest.mark.parametrize(
    ("parts", "merged", "settings"),
    [
        (
            ("-c TimeZone=UTC", "-c statement_timeout=1000", "--statement-timeout=2000"),
            "-c TimeZone=UTC -c statement_timeout=1000 --statement-timeout=2000",
            [("TimeZone", "UTC"), ("statement_timeout", "1000"), ("statement-timeout", "2000")],
        ),
        (
            ("-c application_name=a\\ b", None, "", "-capplication_name=c\\\\d"),
            "-c application_name=a\\ b -capplication_name=c\\\\d",
            [("application_name", "a b"), ("application_name", "c\\d")],
        ),
        ((None, ""), "", []),
    ],
)
def test_merge_options_keeps_order(
    parts: tuple[str | None, ...], merged: str, settings: list[tuple[str, str]]
) -> None:
    assert merge_options(*parts) == merged
    assert option_settings(merged, "x") == settings


@pytest.mark.parametrize("bad", ["-c", "search_path=x", "-B 100", "-c x", "-c =1"])
def test_merge_options_refuses_a_part_that_would_swallow_the_next(bad: str) -> None:
    with pytest.raises(ValueError):
        merge_options(bad, "-c search_path=shop")


def _effective_options(conninfo: str) -> str | None:
    """The options libpq would send, PGOPTIONS applied (PQconnectStart; nothing listens)."""
    conn = pq.PGconn.connect_start(conninfo.encode())
    try:
        found = {o.keyword: o.val for o in conn.info}[b"options"]
    finally:
        conn.finish()
    return found.decode() if found is not None else None


USER_OPTIONS = [
    ("postgresql:///db?host=/nonexistent", {}, ""),
    ("postgresql:///db?host=/nonexistent", {"PGOPTIONS": "-c work_mem=1MB"}, "-c work_mem=1MB"),
    (
        "postgresql:///db?host=/nonexistent&options=-c%20search_path%3Dshop",
        {"PGOPTIONS": "-c work_mem=1MB"},
        "-c search_path=shop",
    ),
    ("postgresql:///db?host=/nonexistent&options=", {"PGOPTIONS": "-c work_mem=1MB"}, ""),
]


@pytest.mark.parametrize(("raw", "environ", "expected"), USER_OPTIONS)
def test_user_options_follow_libpq(
    raw: str, environ: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert user_options(parse(raw), environ) == expected
    # libpq's rule: PGOPTIONS only when the URL gives no options, even empty ones
    monkeypatch.delenv("PGOPTIONS", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert _effective_options(raw) == expected


def test_user_settings_win_over_ours() -> None:
    url = parse("postgresql://h/db?options=-c%20statement_timeout%3D5000")
    ours = "-c statement_timeout=1000 -c lock_timeout=100"
    merged = merge_options(ours, user_options(url, {"PGOPTIONS": "-c lock_timeout=1"}))
    assert merged == "-c statement_timeout=1000 -c lock_timeout=100 -c statement_timeout=5000"
    assert dict(option_settings(merged, "x")) == {
        "statement_timeout": "5000",
        "lock_timeout": "100",
    }


def test_bad_pgoptions_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        user_options(parse("postgresql://h/db"), {"PGOPTIONS": "-c"})
    assert str(info.value) == "PGOPTIONS: '-c' at the end without a setting"
