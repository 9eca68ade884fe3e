"""handoffs: a customer asked to talk to a person

Revision ID: 0003_handoffs
Revises: 0002_feedback
"""

from alembic import op
import sqlalchemy as sa


revision = '0003_handoffs'
down_revision = '0002_feedback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sender_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_handoffs_sender_id', 'handoffs', ['sender_id'])
    op.create_index('ix_handoffs_status', 'handoffs', ['status'])


def downgrade() -> None:
    op.drop_index('ix_handoffs_status', table_name='handoffs')
    op.drop_index('ix_handoffs_sender_id', table_name='handoffs')
    op.drop_table('handoffs')
