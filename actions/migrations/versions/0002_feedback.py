"""ratings: whether the customer accepted a human follow-up after a low score

Revision ID: 0002_feedback
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_feedback'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('follow_up_requested', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('follow_up_requested')
