"""Redaction: the masked display of a connection string, scrubbing a message of every secret
(the URL's and the registered ones), excerpts. Pure text: no server.

Every secret used here is long and odd enough ("Hunter2…", "S3cr3t…") that finding it in
the output is a leak, never a coincidence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderreport.config import redact
from orderreport.config.redact import UNPARSEABLE, add_secret, is_secret, mask_url, scrub
from orderreport.config.urls import normalize
from orderreport.errors import excerpt


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    redact.reset()
    yield
    redact.reset()


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
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret(name) is secret


def test_every_secret_keyword_of_libpq_is_secret() -> None:
    # libpq marks its secret keywords with display character "*"; is_secret must cover the
    # ones of the libpq in use, or a new libpq's secret would be shown
    from psycopg import pq

    marked = []
    for opt in pq.Conninfo.get_defaults():
        disp: object = opt.dispchar  # bytes in psycopg's stubs, str from the binary module
        if (disp.decode() if isinstance(disp, bytes) else str(disp)) == "*":
            marked.append(opt.keyword.decode())
    assert "password" in marked
    assert [name for name in marked if not is_secret(name)] == []


@pytest.mark.parametrize(
    "raw", ["not a url", "postgresql://u:Hunter2pw@h/db?bogus=1", "mysql://u:Hunter2pw@h/db"]
)
def test_mask_of_unparseable_text_is_a_placeholder(raw: str) -> None:
    assert mask_url(raw) == UNPARSEABLE


SHORT_PW = "postgresql://relpw:pw@localhost:5432/rel_pw"
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
    assert scrub(message, raw) == expected


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


# -- the cases of issue 16: each secret shape through mask_url and scrub --------------------
@pytest.mark.parametrize(
    ("raw", "masked", "secrets"),
    [
        (  # a password
            "postgresql://shop:Hunter2-Secret@db/shop",
            "postgresql+psycopg://shop:***@db/shop",
            ["Hunter2-Secret"],
        ),
        (  # a password with %-escapes: hidden decoded and as written
            "postgresql://shop:Hunter2%2F%40%25Secret@db/shop",
            "postgresql+psycopg://shop:***@db/shop",
            ["Hunter2/@%Secret", "Hunter2%2F%40%25Secret"],
        ),
        (  # sslpassword and another tool's token among the parameters
            "postgresql://shop@db/shop?sslpassword=Hunter2-Key&sslmode=require",
            "postgresql+psycopg://shop@db/shop?sslpassword=***&sslmode=require",
            ["Hunter2-Key"],
        ),
        (  # several hosts, with a password
            "postgresql://shop:Hunter2-Secret@h1:5432,h2:5433/shop?target_session_attrs=any",
            "postgresql+psycopg://shop:***@/shop?host=h1,h2&port=5432,5433"
            "&target_session_attrs=any",
            ["Hunter2-Secret"],
        ),
        (  # a socket directory, with the password as a parameter
            "postgresql:///shop?host=/run/postgresql&password=Hunter2-Secret",
            "postgresql+psycopg://:***@/shop?host=/run/postgresql",
            ["Hunter2-Secret"],
        ),
    ],
)
def test_every_secret_shape(raw: str, masked: str, secrets: list[str]) -> None:
    conninfo = normalize(raw, "--database-url")  # what Settings.database_url holds
    assert mask_url(raw) == mask_url(conninfo) == masked
    for message in (
        f"cannot connect to {raw}: timeout",
        f"cannot connect to {conninfo}: timeout",
        f"hint: {' '.join(secrets)}",
    ):
        for given in (raw, conninfo):
            text = scrub(message, given)
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked into {text!r}"
    assert scrub(f"cannot connect to {conninfo}: timeout", conninfo) == (
        f"cannot connect to {masked}: timeout"
    )


WEBHOOK = "https://hooks.slack.com/services/T000/B000/Hunter2WebhookToken"


def test_a_registered_secret_is_scrubbed_until_reset() -> None:
    add_secret(WEBHOOK, "https://hooks.slack.com/…")
    add_secret("", "never")  # an empty secret would replace every empty string
    message = f"webhook {WEBHOOK} answered 500"
    assert scrub(message) == "webhook https://hooks.slack.com/… answered 500"
    # with the database URL's secrets in the same message, both go
    url = "postgresql://shop:Hunter2-Secret@db/shop"
    assert scrub(f"{message} via {url}", url) == (
        "webhook https://hooks.slack.com/… answered 500 via postgresql+psycopg://shop:***@db/shop"
    )
    redact.reset()
    assert scrub(message) == message


def test_scrub_without_secrets_leaves_the_message_alone() -> None:
    message = 'ERROR: relation "orders" does not exist at character 15 (user=shop)'
    assert scrub(message) == message
    assert scrub(message, "postgresql://shop@db/shop") == message
