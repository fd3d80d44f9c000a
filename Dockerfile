# One image for the three Haven services; docker-compose.yml picks the service by its command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY shared shared
COPY services services
RUN uv sync --frozen --no-dev
RUN useradd --system --uid 10001 haven
USER haven
EXPOSE 8000
CMD ["uvicorn", "--factory", "intake.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
