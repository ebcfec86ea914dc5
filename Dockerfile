# syntax=docker/dockerfile:1
# One image for web (gunicorn), worker and beat (Celery); docker-compose.yml picks the command.
FROM python:3.11-slim

# uv, pinned: uv.lock (revision 5) needs a recent uv to be read.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# collectstatic only imports the settings; production settings insist on these two, so give
# placeholders for this build step. whitenoise serves the result from var/static.
RUN DJANGO_ENV=production SECRET_KEY=build-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

# var/private/subject-access and var/private/referral-uploads exist in the image so that the
# volumes mounted there (docker-compose.yml) start out owned by the application's user.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin vru \
    && mkdir -p /app/var/private/subject-access /app/var/private/referral-uploads \
    && chmod 700 /app/var/private /app/var/private/subject-access \
        /app/var/private/referral-uploads \
    && chown -R vru /app/var
USER vru

EXPOSE 8000
# Worker processes: WEB_CONCURRENCY (read by gunicorn), default 1 per container.
CMD ["gunicorn", "vru.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
