# One image for every docflow process: worker, web, migrations, topic set-up.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DOCFLOW_HOME=/var/lib/docflow
WORKDIR /app
COPY pyproject.toml setup.py requirements-lock.txt README.md ./
COPY services ./services
COPY labeling ./labeling
COPY rules ./rules
COPY models ./models
# gcc for the pdfium reader's loops in C (setup.py), removed once they are built.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install --no-cache-dir -c requirements-lock.txt . \
 && python -c "import services.parsing._chars" \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/docflow docflow && mkdir -p /var/lib/docflow && chown docflow /var/lib/docflow
ENV DOCFLOW_RULES_DIR=/app/rules DOCFLOW_SHIPPED_MODEL_DIR=/app/models
USER docflow
ENTRYPOINT ["docflow"]
