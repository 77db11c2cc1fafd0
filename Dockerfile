# The pipeline's Airflow image for docker-compose.yml: the official Airflow image plus this
# project, pinned by requirements.lock. Keep the tag in step with `apache-airflow==` in
# requirements.lock (tests/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# Folders the named volumes are created from (a fresh named volume copies the image's folder,
# ownership included), so every container, running as the image's `airflow` user, can write them.
USER root
RUN mkdir -p /opt/pipeline /data \
    && chown -R airflow:0 /opt/pipeline /data
USER airflow
WORKDIR /opt/pipeline

# Dependencies first (cached until the lock changes). Naming apache-airflow with the image's own
# version keeps pip from upgrading or downgrading Airflow itself while it applies the lock.
COPY --chown=airflow:0 requirements.lock ./
# The image ships asyncpg (Airflow 3's async metadata engine on Postgres); the check fails the
# build if a lock change ever removes it.
RUN pip install --no-cache-dir -r requirements.lock "apache-airflow==3.3.2" \
    && python -c "import airflow, asyncpg, psycopg2, celery, redis; assert airflow.__version__ == '3.3.2', airflow.__version__"

# The project itself: the package (no dependency resolution: the lock already did it), and the
# DAGs, SQL models and demo files it reads from /opt/pipeline at run time.
COPY --chown=airflow:0 pyproject.toml README.md ./
COPY --chown=airflow:0 pipeline ./pipeline
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 sql ./sql
COPY --chown=airflow:0 data/demo ./data/demo
COPY --chown=airflow:0 docs ./docs
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build *.egg-info

ENV PIPELINE_SQL_DIR=/opt/pipeline/sql \
    PIPELINE_DEMO_DIR=/opt/pipeline/data/demo \
    PIPELINE_HOME=/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/pipeline/dags
