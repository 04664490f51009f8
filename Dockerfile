# news-monitor: a small image running as a non-root user, state in one volume (/app/storage).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    MONITOR_CONFIG=/app/feeds.yaml
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin monitor
COPY --from=build /install /usr/local
WORKDIR /app
COPY feeds.yaml ./
COPY rules ./rules
RUN mkdir -p /app/storage && chown monitor /app/storage
USER 10001
VOLUME ["/app/storage"]
# /metrics, /healthz and /readyz are served only when settings.ops.listen is set (0.0.0.0:9464 in
# a container); the health check needs no open port: it reads the heartbeat and the database.
EXPOSE 9464
HEALTHCHECK --interval=60s --timeout=15s --start-period=90s --retries=3 CMD ["monitor", "healthcheck"]
ENTRYPOINT ["monitor"]
CMD ["run"]
