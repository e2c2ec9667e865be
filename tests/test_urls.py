"""Database URLs: libpq reads them; we check what orderreport adds on top of it.

Pure parsing: no server. Where a test states what libpq does, it asks the libpq that psycopg
loaded (conninfo_to_dict) rather than trusting a comment. Masking and scrubbing, which the
tests here use, are tested in test_redact.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from orderreport.config.redact import mask_url, scrub
from orderreport.config.urls import DISPLAY_SCHEME, normalize, parse, render
from orderreport.errors import UsageError

SOURCE = "--database-url"
Params = dict[str, str]


def read(raw: str) -> Params:
    return parse(raw, SOURCE)


def usage_error(raw: str, source: str = SOURCE) -> str:
    with pytest.raises(UsageError) as info:
        parse(raw, source)
    return str(info.value)


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


# -- the defects, with the inputs that showed them ------------------------------------------
PW_PARAM = "postgresql://rel:pw@localhost:5432/rel_pw?password=S3cr3t-Pw_xyz"
AT_IN_PW = "postgresql://u:p@ssHunter2Secret@host/db"
SHORT_PW = "postgresql://relpw:pw@localhost:5432/rel_pw"


def test_password_query_parameter_is_masked() -> None:
    url = read(PW_PARAM)
    assert url["password"] == "S3cr3t-Pw_xyz"  # libpq: the query parameter overrides "pw"
    assert (
        mask_url(normalize(PW_PARAM, SOURCE))
        == "postgresql+psycopg://rel:***@localhost:5432/rel_pw"
    )
    assert mask_url(PW_PARAM) == "postgresql+psycopg://rel:***@localhost:5432/rel_pw"
    message = f"cannot connect to {PW_PARAM}: timeout"
    assert_clean(scrub(message, PW_PARAM), "S3cr3t", "Pw_xyz")
    assert_clean(scrub(message, None), "S3cr3t", "Pw_xyz")


def test_unencoded_at_in_password_stays_in_the_password() -> None:
    url = read(AT_IN_PW)
    assert (url["user"], url["password"], url["host"], url["dbname"]) == (
        "u",
        "p@ssHunter2Secret",
        "host",
        "db",
    )
    assert mask_url(normalize(AT_IN_PW, SOURCE)) == "postgresql+psycopg://u:***@host/db"
    assert mask_url(AT_IN_PW) == "postgresql+psycopg://u:***@host/db"
    for message in (
        f"cannot connect to {AT_IN_PW}",
        f"cannot connect to {render(url, DISPLAY_SCHEME)}",
    ):
        assert_clean(scrub(message, AT_IN_PW), "ssHunter2Secret", "Hunter2")


def test_libpq_itself_splits_at_the_first_at() -> None:
    # why urls.parse differs from libpq here: libpq makes the rest of the password
    # part of the host name, which then shows up in "could not translate host name" errors
    assert conninfo_to_dict(AT_IN_PW) == {
        "user": "u",
        "password": "p",
        "host": "ssHunter2Secret@host",
        "dbname": "db",
    }


def test_short_password_leaves_other_words_alone() -> None:
    url = read(SHORT_PW)
    assert mask_url(SHORT_PW) == "postgresql+psycopg://relpw:***@localhost:5432/rel_pw"
    message = (
        f"cannot connect to {render(url)}: connection to server "
        'at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user '
        '"relpw" (conninfo: user=relpw password=pw dbname=rel_pw)'
    )
    assert scrub(message, SHORT_PW) == (
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
            {"host": "h1,h2", "port": "5432", "sslpassword": "k3y", "application_name": "a+b"},
        ),
        "postgresql+psycopg:///shop?host=h1,h2&port=5432&sslpassword=***&application_name=a%2Bb",
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


def parts(url: Params) -> tuple[Any, ...]:
    query = dict(url)
    user, password, dbname = (query.pop(k, None) for k in ("user", "password", "dbname"))
    host, port = query.get("host", ""), query.get("port", "")
    if "," in host + port or host.startswith("/"):
        return (user, password, None, None, dbname, query)
    query.pop("host", None)
    query.pop("port", None)
    return (user, password, host or None, int(port) if port else None, dbname, query)


@pytest.mark.parametrize(("raw", "expected", "masked"), VALID)
def test_valid_urls(raw: str, expected: tuple[Any, ...], masked: str) -> None:
    url = read(raw)
    assert parts(url) == expected
    assert mask_url(normalize(raw, SOURCE)) == masked
    assert mask_url(raw) == masked


@pytest.mark.parametrize(("raw", "expected", "masked"), VALID)
def test_rendered_url_reads_back_the_same(raw: str, expected: tuple[Any, ...], masked: str) -> None:
    url = read(raw)
    assert read(normalize(raw, SOURCE)) == url
    assert read(render(url, DISPLAY_SCHEME)) == url
    assert render(read(masked), DISPLAY_SCHEME) == masked  # the masked form reads as itself


@pytest.mark.parametrize("raw", LIBPQ_SAME)
def test_libpq_reads_our_uri_as_it_reads_the_url(raw: str) -> None:
    # where libpq reads a URL as we do, the URI we hand psycopg says exactly the same
    assert conninfo_to_dict(normalize(raw, SOURCE)) == conninfo_to_dict(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql+psycopg://u:pw@h/db?sslmode=require",
        "postgresql+psycopg2://u:pw@h/db?sslmode=require",
        "POSTGRES+asyncpg://u:pw@h/db?sslmode=require",
        "postgres://u:pw@h/db?sslmode=require",
    ],
)
def test_any_driver_becomes_libpq_s_scheme(raw: str) -> None:
    assert normalize(raw, SOURCE) == "postgresql://u:pw@h/db?sslmode=require"


def test_every_libpq_keyword_is_accepted() -> None:
    keywords = [opt.keyword.decode() for opt in pq.Conninfo.get_defaults()]
    assert {"options", "sslmode", "target_session_attrs", "hostaddr", "passfile"} <= set(keywords)
    for key in keywords:
        if key not in ("host", "port", "user", "password", "dbname"):
            value = "-c%20a%3Db" if key == "options" else "1"
            assert key in read(f"postgresql://h/db?{key}={value}")
