"""processed_messages: when the reply was sent, so a retry after a crash is answered

Revision ID: 0004_answered_messages
Revises: 0003_handoffs
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_answered_messages'
down_revision = '0003_handoffs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE processed_messages SET answered_at = received_at")  # handled before this column


def downgrade() -> None:
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.drop_column('answered_at')
