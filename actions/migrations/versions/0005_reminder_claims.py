"""appointments: a reminder being sent is claimed apart from sent, so a sender killed mid-send
leaves a claim that expires instead of a reminder marked sent that never went out

Revision ID: 0005_reminder_claims
Revises: 0004_answered_messages
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_reminder_claims'
down_revision = '0004_answered_messages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('reminder_claimed_at')
