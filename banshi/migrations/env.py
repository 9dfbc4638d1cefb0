"""Alembic environment: the URL comes from banshi settings (or the caller), never from an ini file."""

from alembic import context
from sqlalchemy import pool

import channels.accounts  # registers the users table
import channels.conversations  # registers the conversation tables
import channels.hittest  # registers the hit-test history and test-set tables
import channels.outcomes  # registers the turn outcomes table
import channels.sign_in_throttle  # registers the sign-in failures table
import channels.wechat.state  # noqa: F401  (registers the WeChat followers and inbound tables)
import hotline.models  # noqa: F401  (registers the ticket tables)
import knowledge.faqs  # registers the FAQ table
import knowledge.models  # registers the catalogue tables
import knowledge.unanswered  # noqa: F401  (registers the unanswered and out-of-scope question tables)
from banshi.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
