"""handoffs held by staff (summary, first reply, end), their messages, opt-outs, data deletions

Revision ID: 0006_handoff_lifecycle
Revises: 0005_reminder_claims
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_handoff_lifecycle'
down_revision = '0005_reminder_claims'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('customer_told', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('first_reply_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=16), nullable=True))
    op.create_table('handoff_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('handoff_id', sa.Integer(), sa.ForeignKey('handoffs.id'), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('delivered', sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_handoff_messages_handoff_id', 'handoff_messages', ['handoff_id'])
    op.create_table('opt_outs',
    sa.Column('sender_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sender_id')
    )
    op.create_table('data_deletions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('appointments', sa.Integer(), nullable=False),
    sa.Column('ratings', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('data_deletions')
    op.drop_table('opt_outs')
    op.drop_index('ix_handoff_messages_handoff_id', table_name='handoff_messages')
    op.drop_table('handoff_messages')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        for column in ('closed_reason', 'last_activity_at', 'first_reply_at', 'customer_told', 'summary'):
            batch_op.drop_column(column)
