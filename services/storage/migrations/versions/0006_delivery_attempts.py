"""delivery attempts per document and stage: poison documents are dead-lettered

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delivery_attempts',
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('document_id', 'stage')
    )


def downgrade() -> None:
    op.drop_table('delivery_attempts')
