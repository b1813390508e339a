# PMHub production image: the same lock files and commands as `make run` / CI.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/app/.venv/bin:$PATH"

WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.8"
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --compile-bytecode
COPY . .
COPY --from=assets /app/node_modules ./node_modules
# collectstatic needs no secrets beyond a throwaway key.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0

EXPOSE 8000
CMD ["gunicorn", "pmhub.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
