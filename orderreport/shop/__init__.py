"""The shop's database, worked out once: model.py (Shop, inspect), detect.py (which preset
and schema a database holds), sql.py (names and literals as SQL), view.py (the view's SQL, a
day's bounds, the proof, the day's plan), checks.py (indexes, undated orders, foreign
tables: imported by name, `from orderreport.shop import checks`, as only status and migrate
need it). May import db, config and the leaves. Its public names are re-exported here
(light: nothing above psycopg), so call sites read `shop.inspect`, `shop.view_definition`."""

from orderreport.shop.detect import SEED_SOURCE as SEED_SOURCE
from orderreport.shop.detect import Catalog as Catalog
from orderreport.shop.detect import foreign_relations as foreign_relations
from orderreport.shop.model import DATE as DATE
from orderreport.shop.model import DAY as DAY
from orderreport.shop.model import EXPRESSION as EXPRESSION
from orderreport.shop.model import GROUPED as GROUPED
from orderreport.shop.model import INSTANT as INSTANT
from orderreport.shop.model import INTEGERS as INTEGERS
from orderreport.shop.model import LATERAL as LATERAL
from orderreport.shop.model import MONEY_READINGS as MONEY_READINGS
from orderreport.shop.model import NAIVE as NAIVE
from orderreport.shop.model import ONCE as ONCE
from orderreport.shop.model import PER_CURRENCY as PER_CURRENCY
from orderreport.shop.model import PLACED_KINDS as PLACED_KINDS
from orderreport.shop.model import QUERY as QUERY
from orderreport.shop.model import SERVER_ZONE as SERVER_ZONE
from orderreport.shop.model import SUBQUERY as SUBQUERY
from orderreport.shop.model import TIMESTAMP as TIMESTAMP
from orderreport.shop.model import TIMESTAMPS as TIMESTAMPS
from orderreport.shop.model import TIMESTAMPTZ as TIMESTAMPTZ
from orderreport.shop.model import VIEW_FORM as VIEW_FORM
from orderreport.shop.model import Shop as Shop
from orderreport.shop.model import base_type as base_type
from orderreport.shop.model import find as find
from orderreport.shop.model import inspect as inspect
from orderreport.shop.model import try_find as try_find
from orderreport.shop.sql import fill_schema as fill_schema
from orderreport.shop.sql import ident as ident
from orderreport.shop.sql import qualified as qualified
from orderreport.shop.sql import quote as quote
from orderreport.shop.sql import sql_string as sql_string
from orderreport.shop.view import DAY_BOUNDS as DAY_BOUNDS
from orderreport.shop.view import amount_sql as amount_sql
from orderreport.shop.view import currency_sql as currency_sql
from orderreport.shop.view import describe_source as describe_source
from orderreport.shop.view import prove as prove
from orderreport.shop.view import view_definition as view_definition
from orderreport.shop.view import whole_read_fix as whole_read_fix
from orderreport.shop.view import whole_reads as whole_reads
