"""model lifecycle: datasets, registry, training jobs, observations, drift

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:08:46.872769
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('alert_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('raised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('alert_id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_raised_at'), ['raised_at'], unique=False)

    op.create_table('datasets',
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cutoff', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('base', sa.JSON(), nullable=False),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.Column('labels', sa.Integer(), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('recent', sa.JSON(), nullable=False),
    sa.Column('folder', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('drift_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('feature', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('test', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('reference_n', sa.Integer(), nullable=False),
    sa.Column('current_n', sa.Integer(), nullable=False),
    sa.Column('drift', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('drift_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drift_checks_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_drift_checks_run'), ['run'], unique=False)

    op.create_table('model_events',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('model_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_events_model_version'), ['model_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_events_published_at'), ['published_at'], unique=False)

    op.create_table('model_outputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('served_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('served', sa.JSON(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('served_outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'model_version', name='uq_model_outputs_doc_model')
    )
    with op.batch_alter_table('model_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_outputs_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_outputs_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_outputs_model_version'), ['model_version'], unique=False)

    op.create_table('models',
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('artifact', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dataset_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('parent', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('trigger', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('gate', sa.JSON(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_models_status'), ['status'], unique=False)

    op.create_table('observations',
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('template_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('detection', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('words_per_page', sa.Float(), nullable=False),
    sa.Column('text_layer', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('ocr', sa.Boolean(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('model_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('confidence', sa.JSON(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('cpu_ms', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('document_id')
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observations_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_model_version'), ['model_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_vendor'), ['vendor'], unique=False)

    op.create_table('training_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('dataset_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_jobs_state'), ['state'], unique=False)

    op.create_table('trigger_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('signal_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'signal_id', name='uq_trigger_signals_kind_id')
    )
    with op.batch_alter_table('trigger_signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trigger_signals_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trigger_signals_job_id'), ['job_id'], unique=False)

    with op.batch_alter_table('stage_transitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cpu_ms', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('stage_transitions', schema=None) as batch_op:
        batch_op.drop_column('cpu_ms')

    with op.batch_alter_table('trigger_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trigger_signals_job_id'))
        batch_op.drop_index(batch_op.f('ix_trigger_signals_at'))

    op.drop_table('trigger_signals')
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_jobs_state'))

    op.drop_table('training_jobs')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_vendor'))
        batch_op.drop_index(batch_op.f('ix_observations_model_version'))
        batch_op.drop_index(batch_op.f('ix_observations_at'))

    op.drop_table('observations')
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_models_status'))

    op.drop_table('models')
    with op.batch_alter_table('model_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_outputs_model_version'))
        batch_op.drop_index(batch_op.f('ix_model_outputs_document_id'))
        batch_op.drop_index(batch_op.f('ix_model_outputs_at'))

    op.drop_table('model_outputs')
    with op.batch_alter_table('model_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_events_published_at'))
        batch_op.drop_index(batch_op.f('ix_model_events_model_version'))

    op.drop_table('model_events')
    with op.batch_alter_table('drift_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drift_checks_run'))
        batch_op.drop_index(batch_op.f('ix_drift_checks_at'))

    op.drop_table('drift_checks')
    op.drop_table('datasets')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_raised_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_published_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_kind'))

    op.drop_table('alerts')
