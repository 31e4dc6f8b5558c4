# monitor worker image: `docker build -t monitor .`, `docker run monitor` (entrypoint `monitor worker`).
# Rules are baked in at /app/rules (MONITOR_RULES); mount a folder there to replace them:
#   docker run -v "$PWD/rules:/app/rules:ro" monitor

# -- build: wheels and a virtualenv, with a compiler for any dependency without a wheel ----------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so that a source change does not reinstall them.
COPY pyproject.toml README.md ./
COPY src/monitor/__init__.py src/monitor/__init__.py
RUN pip install --upgrade pip && pip install .
COPY src ./src
RUN pip install --no-deps --force-reinstall .

# -- runtime: the virtualenv, the rules, a user without privileges ------------------------------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MONITOR_RULES=/app/rules \
    MONITOR_WEB_HOST=0.0.0.0 \
    MONITOR_WEB_PORT=6066 \
    MONITOR_LOG_FORMAT=json
RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /app --shell /usr/sbin/nologin monitor
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY rules /app/rules
# Faust writes its data directory (<app id>-data) under the working directory.
RUN chown monitor:monitor /app
USER monitor
EXPOSE 6066
# slim has no curl: the stdlib asks /healthz on the port the worker listens on.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MONITOR_WEB_PORT', '6066'), timeout=4)"]
ENTRYPOINT ["monitor"]
CMD ["worker"]
