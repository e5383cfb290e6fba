# Palabre's container image: built in one stage, run in another without compilers, as a non-root user.
#   docker build -t palabre .
#   docker run --env-file .env -v palabre-data:/var/lib/palabre palabre
# The tests replay the build stage's RUN steps in a temporary virtualenv (tests/deploy).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE .env.example ./
COPY config ./config
COPY notices ./notices
COPY bot ./bot
COPY handlers ./handlers
COPY participation ./participation
COPY storage ./storage
COPY scheduler ./scheduler
COPY web ./web
COPY locales ./locales
# The wheel carries the translation catalogs compiled (setup.py) and the migrations.
RUN python -m venv /opt/palabre
RUN /opt/palabre/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/palabre --create-home palabre
COPY --from=build /opt/palabre /opt/palabre
ENV PATH=/opt/palabre/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/palabre/palabre.db \
    MEDIA_DIR=/var/lib/palabre/media \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
USER palabre
WORKDIR /var/lib/palabre
VOLUME ["/var/lib/palabre"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]
# `palabre run` applies the migrations before it starts serving.
CMD ["palabre", "run"]
